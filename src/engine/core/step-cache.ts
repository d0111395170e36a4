// The step cache: local records in the store first, then (with --cache-repo) a registry repository shared by
// every runner. A remote entry is a one-layer image tagged with the step's cache key, as Kaniko does.

import { KbError } from "../../errors.ts";
import { assembleImage } from "../../image/assemble.ts";
import { parseReference } from "../../image/reference.ts";
import { pushImage, resolveImage } from "../../registry/index.ts";
import type { EngineEnv } from "./engine-types.ts";
import { cacheKey } from "./cache-key.ts";
import { recallLayer, rememberLayer, storeThrough, withSource } from "../trees/layers.ts";
import type { StageLayer, StageState } from "./stage-state.ts";

function cacheRef(env: EngineEnv, key: string) {
  const repo = parseReference(env.opts.cacheRepo!);
  return parseReference(`${repo.name()}:${key}`);
}

/** A cached layer for the key: from the store, else from --cache-repo. Undefined with --no-cache. */
/** A layer made with clamped mtimes is not the layer made without: the clamp is part of the key. */
const clampedKey = (env: EngineEnv, key: string) => (env.mtimeClamp === undefined ? key : cacheKey(key, "mtime-clamp", env.mtimeClamp));

export async function recall(env: EngineEnv, st: StageState, stepKey: string): Promise<StageLayer | undefined> {
  if (env.opts.noCache) return undefined;
  const key = clampedKey(env, stepKey);
  const local = await recallLayer(env.store, key, env.opts.cacheTtlMs);
  if (local || !env.opts.cacheRepo) return local;
  try {
    const ref = cacheRef(env, key);
    const img = await resolveImage(env.client, ref, st.platform, env.signal);
    const [layer] = await img.layers();
    const diffId = (await img.config()).rootfs.diff_ids[0];
    if (!layer || !diffId) return undefined;
    env.sink.emit({ type: "info", message: `cache hit in ${ref.name()} for step ${key.slice(0, 12)}` });
    return { layer: storeThrough(env.store, withSource(layer, ref.name())), diffId, sourceRepository: ref.name() };
  } catch (e) {
    if (e instanceof KbError && (e.code === "REGISTRY_NOT_FOUND" || e.code === "PLATFORM_NOT_FOUND")) return undefined;
    env.sink.emit({ type: "warning", message: `cache repo unavailable, building the step: ${(e as Error).message}` });
    return undefined;
  }
}

/** Records a freshly built layer locally, and queues its upload to --cache-repo (awaited by `flushRemoteCache`). */
export async function remember(env: EngineEnv, st: StageState, stepKey: string, l: StageLayer): Promise<void> {
  const key = clampedKey(env, stepKey);
  await rememberLayer(env.store, key, l);
  if (!env.opts.cacheRepo || env.opts.noPush) return;
  const ref = cacheRef(env, key);
  const img = assembleImage({
    config: { architecture: st.platform.architecture, os: st.platform.os, rootfs: { type: "layers", diff_ids: [] }, config: {} },
    layers: [l.layer],
    mediaTypes: "oci",
  });
  env.cacheUploads.push(
    pushImage(env.client, [ref], img, { signal: env.signal }).then(
      () => undefined,
      (e) => env.sink.emit({ type: "warning", message: `could not store step ${key.slice(0, 12)} in ${ref.name()}: ${(e as Error).message}` }),
    ),
  );
}

/** Waits for queued cache uploads (a failure there never fails the build). */
export async function flushRemoteCache(env: Pick<EngineEnv, "cacheUploads">): Promise<void> {
  await Promise.all(env.cacheUploads.splice(0));
}
