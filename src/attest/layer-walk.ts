// Reads the files an image's final filesystem shows, streaming its layers top-down: later layers win, whiteouts hide.

import type { Layer } from "../image/image.ts";
import { readTar, parseWhiteout, type TarEntry } from "../layer/index.ts";

/** A file an image shows, as a scanner sees it. */
export interface VisibleFile {
  path: string;
  entry: TarEntry;
  /** Index of the layer that holds it (0 = base-most). */
  layer: number;
  /** True for a lower copy that an upper layer replaced or deleted (only for paths `wantsHidden` accepts). */
  hidden?: boolean;
}

/**
 * What a scanner wants from the walk. `wants` is asked for every visible regular file (path without a leading
 * "/"); a file it wants is handed to `read` with its body, which `read` must consume or cancel.
 */
export interface FileVisitor {
  wants(path: string, entry: TarEntry): boolean;
  /** Lower copies of these paths are handed over too, marked hidden (package databases, to date each package). */
  wantsHidden?(path: string): boolean;
  read(file: VisibleFile, body: ReadableStream<Uint8Array>): Promise<void>;
}

const norm = (p: string) => p.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");

/**
 * Walks `layers` from the top layer down and hands each visible wanted file to `visitor`, once, from the layer
 * that wins. Memory holds whiteouts, non-directory non-file entries (symlinks may replace a directory) and the
 * paths that were wanted: not the file list, so a 100k-file image costs what its interesting files cost.
 * @example await walkVisibleFiles(await img.layers(), { wants: (p) => p === "etc/os-release", read: async (f, b) => console.log(await new Response(b).text()) })
 */
export async function walkVisibleFiles(layers: Layer[], visitor: FileVisitor, signal?: AbortSignal): Promise<WalkStats> {
  const stats: WalkStats = { entries: 0, remembered: 0 };
  /** Paths hidden, with their subtrees, from lower layers: whiteouts, wanted files taken, upper non-directories. */
  const hidden = new Set<string>();
  /** Directories made opaque above: their lower children are hidden. */
  const opaque = new Set<string>();
  const isHidden = (p: string): boolean => {
    if (hidden.has(p)) return true;
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) {
      const dir = p.slice(0, i);
      if (hidden.has(dir) || opaque.has(dir)) return true;
    }
    return opaque.has("");
  };
  for (let li = layers.length - 1; li >= 0; li--) {
    signal?.throwIfAborted();
    const newHidden: string[] = [];
    const newOpaque: string[] = [];
    for await (const { entry, body } of readTar(await layers[li]!.uncompressed(signal))) {
      stats.entries++;
      const path = norm(entry.path);
      const wh = parseWhiteout(path);
      if (wh) {
        await body.cancel();
        if (wh.kind === "opaque") newOpaque.push(norm(wh.dir));
        else if (wh.kind === "delete") newHidden.push(norm(`${wh.dir}/${wh.target}`));
        continue;
      }
      if (!path || isHidden(path)) {
        if (path && entry.type === "file" && visitor.wantsHidden?.(path)) await visitor.read({ path, entry, layer: li, hidden: true }, body);
        else await body.cancel();
        continue;
      }
      if (entry.type === "file" && visitor.wants(path, entry)) {
        newHidden.push(path);
        await visitor.read({ path, entry, layer: li }, body);
        continue;
      }
      await body.cancel();
      if (entry.type !== "dir" && entry.type !== "file") newHidden.push(path);
    }
    // A layer's whiteouts and entries hide what lies below it, never its own siblings.
    for (const p of newHidden) hidden.add(p);
    for (const p of newOpaque) opaque.add(p);
  }
  stats.remembered = hidden.size + opaque.size;
  return stats;
}

/** What a walk read: tar entries seen, and paths it had to remember (its memory, besides the files read). */
export interface WalkStats {
  entries: number;
  remembered: number;
}

/** Reads a body into text, at most `max` bytes (the rest is cancelled); undefined when larger. */
export async function readCapped(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}
