// COPY --from: the root a copy reads from — another stage's filesystem or an image's, extracted once.

import { compileIgnore, type IgnoreMatcher } from "../context/index.ts";
import { parseReference } from "../image/reference.ts";
import { resolveImage } from "../registry/index.ts";
import type { EngineEnv } from "./engine-types.ts";
import type { StageState } from "./stage-state.ts";
import { mergedTree } from "./trees.ts";

export interface CopyRoot {
  dir: string;
  matcher?: IgnoreMatcher;
  /** Identity of the root for the cache key. */
  key?: string;
  /** The layers the root was extracted from (rootless COPY --from reads the owners from them). */
  layers?: import("./stage-state.ts").StageLayer[];
}

const noIgnore = compileIgnore([]);

/** Resolves `--from=NAME|INDEX|IMAGE` to an extracted filesystem. .dockerignore does not apply here. */
export async function copyFromRoot(env: EngineEnv, st: StageState, from: string): Promise<CopyRoot> {
  const stages = env.plan.stages;
  const idx = /^\d+$/.test(from) ? Number(from) : stages.find((s) => s.stage.name === from.toLowerCase())?.stage.index;
  if (idx !== undefined && idx < st.index) {
    const other = await env.stageResult(idx);
    return { dir: await mergedTree(env, other.layers), matcher: noIgnore, key: `stage:${other.key}`, layers: other.layers };
  }
  const ref = parseReference(from);
  const image = await resolveImage(env.client, ref, st.platform, env.signal);
  const config = await image.config();
  const layers = (await image.layers()).map((layer, i) => ({ layer, diffId: config.rootfs.diff_ids[i]! }));
  return { dir: await mergedTree(env, layers), matcher: noIgnore, key: `image:${await image.digest()}`, layers };
}
