// COPY --from: the root a copy reads from — another stage's filesystem or an image's. Only the subtrees the
// sources name are assembled from the per-layer trees (stage-view.ts); the whole merged tree is extracted
// only when such a view cannot answer (a source at "/", a symlink on a source's path).

import { compileIgnore, type IgnoreMatcher } from "../../context/index.ts";
import { parseReference } from "../../image/reference.ts";
import { resolveImage } from "../../registry/index.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import type { StageLayer, StageState } from "../core/stage-state.ts";
import { mergedTree, stageView } from "../trees/stage-view.ts";

export interface CopyRoot {
  dir: string;
  matcher?: IgnoreMatcher;
  /** Identity of the root for the cache key. */
  key?: string;
  /** The layers the root was extracted from (rootless COPY --from reads the owners from them). */
  layers?: StageLayer[];
  /** Removes a temporary view once the copy is done. */
  cleanup?: () => Promise<void>;
}

const noIgnore = compileIgnore([]);

async function rootOf(env: EngineEnv, layers: StageLayer[], sources: string[], parents: boolean, key: string): Promise<CopyRoot> {
  const view = await stageView(env, layers, sources, parents);
  if (view) return { dir: view.dir, matcher: noIgnore, key, layers, cleanup: view.cleanup };
  return { dir: await mergedTree(env, layers), matcher: noIgnore, key, layers };
}

/** Resolves `--from=NAME|INDEX|IMAGE` to a filesystem holding `sources`. .dockerignore does not apply here. */
export async function copyFromRoot(env: EngineEnv, st: StageState, from: string, sources: string[], parents = false): Promise<CopyRoot> {
  const stages = env.plan.stages;
  const idx = /^\d+$/.test(from) ? Number(from) : stages.find((s) => s.stage.name === from.toLowerCase())?.stage.index;
  if (idx !== undefined && idx < st.index) {
    const other = await env.stageResult(idx);
    return rootOf(env, other.layers, sources, parents, `stage:${other.key}`);
  }
  const ref = parseReference(from);
  const image = await resolveImage(env.client, ref, st.platform, env.signal);
  const config = await image.config();
  const layers = (await image.layers()).map((layer, i) => ({ layer, diffId: config.rootfs.diff_ids[i]! }));
  return rootOf(env, layers, sources, parents, `image:${await image.digest()}`);
}
