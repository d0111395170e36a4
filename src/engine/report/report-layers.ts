// For the report: each layer of the image with its size and the biggest files it adds (read from the store).

import type { Image } from "../../image/image.ts";
import type { HistoryEntry } from "../../image/types.ts";
import { readTar } from "../../layer/index.ts";
import type { Store } from "../../store/index.ts";
import type { ReportLayer } from "./report.ts";
import { biggestFilesKey, type BiggestFiles } from "../trees/layers.ts";

/** Layers this big are not re-read for the report when kb did not note their files while writing them. */
const REREAD_MAX = 64 << 20;

/**
 * Lists layers with their biggest files: from the note kb wrote while building the layer, else read from
 * the store when the layer is there and small (no downloads, no long re-reads for a report).
 */
export async function reportLayers(img: Image, store: Store, history: HistoryEntry[]): Promise<ReportLayer[]> {
  const steps = history.filter((h) => !h.empty_layer).map((h) => h.created_by ?? "");
  const out: ReportLayer[] = [];
  const layers = await img.layers();
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    const digest = await l.digest();
    const noted = await store.cache.get(biggestFilesKey(digest));
    const biggest: { path: string; size: number }[] = noted?.kind === "layer-biggest-files" ? (noted.data as BiggestFiles) : [];
    if (!noted && (await l.size()) <= REREAD_MAX && (await store.has(digest))) {
      for await (const { entry, body } of readTar(await l.uncompressed())) {
        await body.cancel();
        if (entry.type !== "file") continue;
        biggest.push({ path: entry.path, size: entry.size });
        biggest.sort((a, b) => b.size - a.size);
        if (biggest.length > 5) biggest.pop();
      }
    }
    out.push({ step: (steps[i] ?? `layer ${i + 1}`).replace(/ # buildkit$/, ""), digest, size: await l.size(), biggest });
  }
  return out;
}
