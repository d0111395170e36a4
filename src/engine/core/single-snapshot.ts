// --single-snapshot (Kaniko's flag): the target's layers above its base image become one layer. The history keeps
// every step; all but the last one that made a layer are marked empty, so history and layers still pair up.

import { squashLayers } from "../../layer/squash.ts";
import type { ImageConfig } from "../../image/types.ts";
import type { Store } from "../../store/index.ts";
import { cacheKey } from "./cache-key.ts";
import type { StageLayer } from "./stage-state.ts";
import { commitLayer, recallLayer, rememberLayer, type LayerSettings } from "../trees/layers.ts";
import { chainId } from "../trees/trees.ts";

/**
 * The layers and config of the image with everything above the base image's layers (those a FROM named) squashed
 * into one; the same when there is at most one such layer. The squashed layer is kept in the store under the
 * layers' chain, so a rebuild that changed nothing reads no layer again.
 */
export async function singleSnapshot<C extends ImageConfig>(store: Store, layers: StageLayer[], config: C, settings: LayerSettings, signal?: AbortSignal): Promise<{ layers: StageLayer[]; config: C }> {
  let base = 0;
  while (base < layers.length && layers[base]!.from) base++;
  const above = layers.slice(base);
  if (above.length <= 1) return { layers, config };
  const key = cacheKey("", "single-snapshot-v1", chainId(layers.map((l) => l.diffId)), settings.compression, settings.level ?? "", settings.mtimeClamp ?? "");
  let squashed = await recallLayer(store, key);
  if (!squashed) {
    const opens = above.map((l) => () => l.layer.uncompressed(signal));
    squashed = await commitLayer(store, squashLayers(opens, settings.mtimeClamp ?? 0), settings, signal);
    await rememberLayer(store, key, squashed);
  }
  // History: the base's entries as they are; of this build's entries that made a layer, only the last keeps it.
  const history = (config.history ?? []).map((h) => ({ ...h }));
  for (const h of history.filter((e) => !e.empty_layer).slice(base, -1)) h.empty_layer = true;
  return { layers: [...layers.slice(0, base), squashed], config: { ...config, history } };
}
