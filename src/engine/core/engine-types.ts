// What every instruction handler gets: the build-wide environment and the stage being built.

import type { BuildContext } from "../../context/open.ts";
import type { ShellLex } from "../../dockerfile/index.ts";
import type { EventSink } from "../../log/events.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { Store } from "../../store/index.ts";
import type { BuildOptions } from "./options.ts";
import type { BuildPlan } from "./plan.ts";
import type { StageState } from "./stage-state.ts";

/** Build-wide things, the same for every stage. */
export interface EngineEnv {
  opts: BuildOptions;
  plan: BuildPlan;
  store: Store;
  client: RegistryClient;
  context: BuildContext;
  sink: EventSink;
  signal: AbortSignal;
  lex: ShellLex;
  /** Finished stages by index (awaitable: a stage waits for the ones it needs). */
  stageResult(index: number): Promise<StageState>;
  /** Timestamp for history and config `created` (SOURCE_DATE_EPOCH when set). */
  created: string;
  /** File mtime clamp in seconds (SOURCE_DATE_EPOCH), when reproducible. */
  mtimeClamp?: number;
  /** How layers are compressed (algorithm, level, parallel), resolved once per build. */
  layer: import("../trees/layers.ts").LayerSettings;
  /** Content hashes of context files from earlier builds. */
  hashMemo?: import("../../context/index.ts").HashMemo;
  /** Bytes of layer content this build has unpacked so far, against opts.maxExtractBytes. */
  extracted?: { bytes: number };
  /** Uploads of fresh layers to --cache-repo still running (shared by every stage and platform; awaited by flushRemoteCache). */
  cacheUploads: Promise<void>[];
  /** Timings for the report: what the time went to. */
  timings: Map<string, number>;
  /** Told of every stage once its base is resolved (the SBOM starts reading base layers then). */
  onBase?: (st: StageState) => void;
  /** Told of every stage when it finishes (SBOM of every stage, provenance of every base). */
  onStage?: (st: StageState) => void;
}

/** Adds `ms` to a timing bucket. */
export function addTiming(env: EngineEnv, bucket: string, ms: number): void {
  env.timings.set(bucket, (env.timings.get(bucket) ?? 0) + ms);
}
