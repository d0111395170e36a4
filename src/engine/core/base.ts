// The start of a stage: FROM scratch, FROM another stage, or FROM an image (manifest and config only; layers stay lazy).

import { locationOf } from "../../dockerfile/index.ts";
import { KbError } from "../../errors.ts";
import { parseReference } from "../../image/reference.ts";
import { formatPlatform, platformMatches } from "../../image/platform.ts";
import type { ImageConfig, Platform } from "../../image/types.ts";
import { resolveImage, sourceRepositoryOf, type RegistryClient } from "../../registry/index.ts";
import type { Store } from "../../store/index.ts";
import { stageRootKey } from "./cache-key.ts";
import { storeThrough, withSource } from "../trees/layers.ts";
import type { PlannedStage } from "./plan.ts";
import { cloneConfig, scratchConfig, type StageState } from "./stage-state.ts";

export interface BaseResult {
  state: StageState;
  /** ONBUILD triggers of the base image, to run before the stage's own instructions. */
  onbuild: string[];
}

function fresh(ps: PlannedStage, config: ImageConfig, key: string, baseName: string): StageState {
  return {
    name: ps.display,
    index: ps.stage.index,
    platform: ps.platform,
    config,
    layers: [],
    history: [...(config.history ?? [])],
    args: new Map(),
    declared: [],
    cmdSet: false,
    key,
    baseName,
    createdDirs: new Set(),
  };
}

/** Sets os/arch/variant of a config to the stage's platform (Docker does so when the platform is explicit). */
function stampPlatform(c: ImageConfig, ps: PlannedStage): void {
  c.os = ps.platform.os;
  c.architecture = ps.platform.architecture;
  if (ps.platform.variant) c.variant = ps.platform.variant;
  else delete c.variant;
}

/** A single-platform base must be of the stage's platform: relabelling it would ship the wrong binaries. */
function checkBasePlatform(ref: string, c: ImageConfig, want: Platform): void {
  if (!c.architecture) return;
  const have = { os: c.os || "linux", architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
  if (platformMatches(want, have)) return;
  throw new KbError("PLATFORM_NOT_FOUND", `Cannot find platform "${formatPlatform(want)}" in "${ref}": it has "${formatPlatform(have)}" only`, {
    hint: `Pass --platform ${formatPlatform(have)}, or use a base image that is published for ${formatPlatform(want)}`,
  });
}

/** Builds the initial state of a stage. `depState` is the finished state of the stage it is based on, if any. */
export async function baseState(ps: PlannedStage, client: RegistryClient, store: Store, depState: StageState | undefined, signal?: AbortSignal): Promise<BaseResult> {
  const plat = formatPlatform(ps.platform);
  if (ps.base.kind === "scratch") {
    return { state: fresh(ps, scratchConfig(ps.platform), stageRootKey("scratch", plat), "scratch"), onbuild: [] };
  }
  if (ps.base.kind === "stage") {
    if (!depState) throw new KbError("INTERNAL", `Cannot start stage "${ps.display}": its base stage has not been built`);
    const config = cloneConfig(depState.config);
    const st = fresh(ps, config, stageRootKey(`stage:${depState.key}`, plat), `stage ${depState.name}`);
    st.layers = [...depState.layers];
    st.history = [...depState.history];
    st.baseImage = depState.baseImage;
    // A stage built FROM another stage inherits its ARG values (BuildKit copies the base dispatch state's buildArgs).
    st.args = new Map(depState.args);
    // …but not its declarations: BuildKit's RUN history ("|N k=v") lists only ARGs the stage itself declares.
    return { state: st, onbuild: [] };
  }
  const ref = parseReference(ps.base.ref);
  const image = await resolveImage(client, ref, ps.platform, signal);
  const config = cloneConfig(await image.config());
  checkBasePlatform(ref.toString(), config, ps.platform);
  const digest = await image.digest();
  const layers = await image.layers();
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new KbError("MANIFEST_INVALID", `Cannot use base image "${ref}": ${layers.length} layers but ${diffIds.length} diff_ids in its config`);
  }
  const onbuild = config.config?.OnBuild ?? [];
  if (config.config) delete config.config.OnBuild;
  stampPlatform(config, ps);
  const st = fresh(ps, config, stageRootKey(digest, plat), `${ref.toString()}@${digest.slice(0, 19)}`);
  const repo = sourceRepositoryOf(image)?.name() ?? ref.name();
  st.baseImage = { ref: ref.toString(), digest };
  const from = locationOf(ps.stage.from);
  st.layers = layers.map((layer, i) => ({ layer: storeThrough(store, withSource(layer, repo)), diffId: diffIds[i]!, sourceRepository: repo, from }));
  return { state: st, onbuild };
}
