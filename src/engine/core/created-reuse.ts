// A rebuild with nothing changed gives the same image (BuildKit returns the cached image): the config's and the
// history's `created` times of an earlier build with the same content are reused, so the digest does not change
// and "deploy only if the digest changed" pipelines see no change.

import type { ImageConfig } from "../../image/types.ts";
import type { Store } from "../../store/index.ts";
import { cacheKey } from "./cache-key.ts";

interface CreatedRecord { created?: string; history: (string | undefined)[] }

/** The config with every timestamp removed: what must be equal for the times to be reused. */
function withoutTimes(c: ImageConfig): string {
  const { created: _c, history, ...rest } = c;
  return JSON.stringify({ ...rest, history: (history ?? []).map(({ created: _h, ...h }) => h) });
}

/**
 * Gives `config` the `created` times recorded for a config equal to it up to its times (layers included, by their
 * diff_ids), or records its times for the next build. Returns the config to write.
 */
export async function reuseCreatedTimes(store: Store, config: ImageConfig): Promise<ImageConfig> {
  const key = cacheKey("", "image-created-times-v1", withoutTimes(config));
  const rec = await store.cache.get(key).catch(() => undefined);
  const data = rec?.kind === "created-times" ? (rec.data as Partial<CreatedRecord>) : undefined;
  const history = config.history ?? [];
  if (data && Array.isArray(data.history) && data.history.length === history.length) {
    return { ...config, ...(data.created ? { created: data.created } : {}), history: history.map((h, i) => ({ ...h, ...(data.history![i] ? { created: data.history![i] } : {}) })) };
  }
  const record: CreatedRecord = { created: config.created, history: history.map((h) => h.created) };
  await store.cache.put(key, { kind: "created-times", data: record, refs: [] }).catch(() => undefined);
  return config;
}
