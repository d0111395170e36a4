// The state of one stage while it builds: config, env, args, user, shell, layers, history, cache key.

import type { Layer } from "../../image/image.ts";
import type { ContainerConfig, HistoryEntry, ImageConfig, Platform } from "../../image/types.ts";
import type { SourceLocation } from "../../errors.ts";

/** PATH of a stage with none set (BuildKit's system.DefaultPathEnvUnix); src/exec/helper/kb-sandbox.c holds a C copy. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A layer as the stage holds it: the Layer plus its diffID, known without reading it. */
export interface StageLayer {
  layer: Layer;
  diffId: string;
  /** Set for layers that came from a registry: where else the blob lives (for cross-repo mounts). */
  sourceRepository?: string;
  /** The layer holds no entries (a RUN that changed nothing: BuildKit keeps such a layer). */
  empty?: boolean;
  /** For a base image's layers: the FROM line that named the image, where a bad layer is reported (as Docker does). */
  from?: SourceLocation;
}

export interface StageState {
  name: string;
  index: number;
  platform: Platform;
  /** The config being built (deep-copied from the base; never shared). */
  config: ImageConfig;
  layers: StageLayer[];
  history: HistoryEntry[];
  /** ARGs declared in this stage, with their values: visible to expansion and RUN, not persisted. */
  args: Map<string, string>;
  /** ARG names declared in this stage (or its base stage), in order, with the value each declaration gave (BuildKit's buildArgs; RUN history lists them). */
  declared: { key: string; value?: string }[];
  /** Whether CMD was set in this stage (ENTRYPOINT resets an inherited CMD otherwise). */
  cmdSet: boolean;
  /** The running cache key (hex). */
  key: string;
  /** Description of the base for step lines and the report. */
  baseName: string;
  /** The registry image this stage (or the stage it is based on) started from, for SBOM and provenance. */
  baseImage?: { ref: string; digest: string };
  /** Directories this stage created (WORKDIR), so a WORKDIR repeats nothing. */
  createdDirs: Set<string>;
}

/** The config of `FROM scratch` for a platform. */
export function scratchConfig(platform: Platform): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
}

/** Env of a config as a Map, in order. */
export function envMap(c: ContainerConfig | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of c?.Env ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) m.set(kv.slice(0, i), kv.slice(i + 1));
    else m.set(kv, "");
  }
  return m;
}

/** Sets one env variable, keeping the position of an existing one (Docker's behaviour). */
export function setEnv(c: ContainerConfig, key: string, value: string): void {
  const env = c.Env ? [...c.Env] : [];
  const i = env.findIndex((kv) => kv === key || kv.startsWith(`${key}=`));
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  c.Env = env;
}

/** The variables an instruction's words are expanded with: stage ARGs, then ENV (ENV wins, as in Docker). */
export function expansionEnv(st: StageState): Map<string, string> {
  const m = new Map(st.args);
  for (const [k, v] of envMap(st.config.config)) m.set(k, v);
  return m;
}

/** Deep copy of a config (configs are JSON). */
export function cloneConfig(c: ImageConfig): ImageConfig {
  return JSON.parse(JSON.stringify(c));
}
