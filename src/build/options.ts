// BuildOptions: everything the build engine needs, resolved from flags once (no flag parsing below the CLI).

import type { Platform } from "../image/types.ts";

export type OutputSpec =
  | { type: "registry"; ref: string }
  | { type: "oci"; dest: string; tag?: string }
  | { type: "docker"; dest: string; tag?: string };

export interface SecretSpec {
  id: string;
  /** A file path, or the name of an environment variable. */
  src?: string;
  env?: string;
}

export interface RegistryOptions {
  insecure: string[];
  mirrors: string[];
  /** host → CA file path */
  certificates: Record<string, string>;
  skipTlsVerify: boolean | string[];
  pushRetries: number;
}

export interface BuildOptions {
  /** The context as given: a directory, a tar file, "-" or a Kaniko-style dir:// or tar:// URL. */
  context: string;
  contextSubPath?: string;
  /** Dockerfile path (relative to the working directory), or undefined for CONTEXT/Dockerfile. */
  dockerfile?: string;
  buildArgs: Map<string, string>;
  /** Build args named bare (`--build-arg K`) with no value in the environment. */
  target?: string;
  platforms: Platform[];
  labels: Record<string, string>;
  secrets: SecretSpec[];
  outputs: OutputSpec[];
  /** Tags for registry outputs, also used to name images in tar/oci outputs. */
  tags: string[];
  noPush: boolean;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  cacheDir?: string;
  noCache: boolean;
  cacheRepo?: string;
  cacheTtlMs?: number;
  registry: RegistryOptions;
  isolation: "auto" | "rootless" | "root" | "container";
  force: boolean;
  network: "host" | "none";
  reproducible: boolean;
  sourceDateEpoch?: number;
  compression: "gzip" | "zstd";
  compressionLevel?: number;
  /** Most file bytes one build unpacks from layers (decompression bombs, disk). @default 64 GiB */
  maxExtractBytes?: number;
  runTimeoutMs?: number;
  ignorePaths: string[];
  reportPath?: string;
  /** Parse and plan only; build nothing. */
  check: boolean;
}
