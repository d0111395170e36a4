// BuildOptions: everything the build engine needs, resolved from flags once (no flag parsing below the CLI).

import type { Platform } from "../../image/types.ts";
import type { AttestOptions } from "../../attest/options.ts";
import type { CompressionAlgorithm } from "../../layer/index.ts";
import type { FileFormatName } from "../../output/index.ts";

/** A registry push, or a file written in one of the formats of src/output/index.ts fileFormats. */
export type OutputSpec =
  | { type: "registry"; ref: string; pushByDigest?: boolean }
  | { type: FileFormatName; dest: string; tag?: string };

/** `--ssh ID=SOCKET`: an ssh-agent socket a RUN may mount with `--mount=type=ssh,id=ID` (id "default" when omitted). */
export interface SshSpec {
  id: string;
  socket: string;
}

/** The resource limits `--ulimit` may set (docker's names, go-units ulimitNameMapping; "as" is left out there too). */
export const ULIMIT_NAMES = ["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"] as const;
export type UlimitName = (typeof ULIMIT_NAMES)[number];

/** `--ulimit NAME=SOFT[:HARD]`: a resource limit of every RUN (-1 = unlimited). */
export interface Ulimit {
  name: UlimitName;
  soft: number;
  hard: number;
}

/** `--add-host HOST:IP`: one more /etc/hosts line in every RUN. */
export interface ExtraHost {
  host: string;
  ip: string;
}

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
  /** host → client certificate and key files (mutual TLS). */
  clientCerts?: Record<string, { cert: string; key: string }>;
  /** registry → hosts tried first for its pulls (Kaniko's --registry-map). */
  registryMap?: Record<string, string[]>;
  /** Never fall back from mirrors/map to the registry itself. */
  skipDefaultFallback?: boolean;
  /** A push refused because the tag is immutable counts as done (Kaniko's --push-ignore-immutable-tag-errors). */
  ignoreImmutableTags?: boolean;
  /** Retries of each pull request (Kaniko's --image-download-retry); the client uses the larger of this and pushRetries. */
  pullRetries?: number;
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
  /** Agent sockets RUN --mount=type=ssh may use; none unless given (an untrusted Dockerfile never reaches the caller's agent). */
  ssh?: SshSpec[];
  extraHosts?: ExtraHost[];
  /** `--ulimit`: limits set in every RUN (BuildKit's ExecOp ulimits; part of each RUN's cache key). */
  ulimits?: Ulimit[];
  /** `--shm-size`: bytes of every RUN's /dev/shm (default 64 MiB, as Docker's). */
  shmSize?: number;
  outputs: OutputSpec[];
  /** Tags for registry outputs, also used to name images in tar/oci outputs. */
  tags: string[];
  /** Push by digest only, no tag (`--output type=registry,push-by-digest=true`): one platform of a scale-out build. */
  pushByDigest?: boolean;
  noPush: boolean;
  digestFile?: string;
  /** `--iidfile`: the image ID (config digest; an index's digest for several platforms), as docker build writes it. */
  iidFile?: string;
  imageNameWithDigestFile?: string;
  /** Kaniko's --image-name-tag-with-digest-file: `NAME:TAG@DIGEST` lines. */
  imageNameTagWithDigestFile?: string;
  cacheDir?: string;
  noCache: boolean;
  cacheRepo?: string;
  cacheTtlMs?: number;
  registry: RegistryOptions;
  isolation: "auto" | "rootless" | "root" | "container";
  force: boolean;
  /** RUN network: "default" = isolated through pasta when installed, else host with a warning. */
  network: "default" | "sandbox" | "host" | "none";
  reproducible: boolean;
  /** Kaniko's --single-snapshot: the target's layers above its base image squashed into one. */
  singleSnapshot?: boolean;
  sourceDateEpoch?: number;
  compression: CompressionAlgorithm;
  compressionLevel?: number;
  /** Most file bytes one build unpacks from layers (decompression bombs, disk). @default 64 GiB */
  maxExtractBytes?: number;
  runTimeoutMs?: number;
  /** Largest ADD <url> body in bytes. @default 10 GiB */
  maxDownloadBytes?: number;
  /** The host resolver file RUNs start from (env KB_HOST_RESOLV_CONF). @default systemd-resolved's list, else /etc/resolv.conf */
  hostResolvConf?: string;
  /** Largest value one Dockerfile word may expand to, in bytes. @default 1 MiB */
  maxWordBytes?: number;
  /** Store size kept by the GC after the build (0 = no GC). @default defaultStoreCap() */
  cacheMaxBytes?: number;
  ignorePaths: string[];
  /** Retries when unpacking a base layer fails, fetching the blob again (Kaniko's --image-fs-extract-retry). @default 0 */
  extractRetries?: number;
  reportPath?: string;
  /** Parse and plan only; build nothing. */
  check: boolean;
  /** SBOM, provenance and signing (none when undefined). */
  attest?: AttestOptions;
  /** Most stages built at once (independent stages run concurrently). @default the core count, at least 2 (stageConcurrency() in engine.ts) */
  stageConcurrency?: number;
  /** Skip the push check that runs beside the first steps (Kaniko's --skip-push-permission-check). */
  skipPushCheck?: boolean;
}
