// Reads the files an image's final filesystem shows: each layer scanned once (and remembered by diffID), then the
// scans applied top-down: later layers win, whiteouts and opaque directories hide what lies below.

import type { Layer } from "../image/image.ts";
import { readTar, parseWhiteout, type TarEntry } from "../layer/index.ts";

/**
 * What a scanner does with files: `wants` picks regular files by path and header; `parse` turns one into JSON data
 * (consuming or cancelling the body) with no view of other layers; `add` receives the data of each visible file,
 * top layer first, and of lower copies too (`hidden`) when `keepsHidden` (package databases, to date packages).
 */
export interface FileScanner {
  readonly name: string;
  readonly keepsHidden?: boolean;
  wants(path: string, entry: TarEntry): boolean;
  parse(path: string, entry: TarEntry, body: ReadableStream<Uint8Array>): Promise<unknown>;
  add(path: string, data: unknown, layer: number, hidden: boolean): void;
}

/** One layer's scan: parsed wanted files, and what the layer hides below it. JSON, cached by diffID. */
export interface LayerScan {
  files: { path: string; scanner: string; data: unknown }[];
  /** Whiteout targets and non-directory, non-file entries (a symlink may replace a directory). */
  hides: string[];
  /** Directories made opaque. */
  opaques: string[];
  /** Tar entries in the layer. */
  entries: number;
}

/** Where layer scans are kept between builds (kb's store cache), keyed by layer diffID. */
export interface LayerScanCache {
  get(diffId: string): Promise<LayerScan | undefined>;
  put(diffId: string, scan: LayerScan): Promise<void>;
  /** Time spent scanning ahead in the background, when the cache does that (for the build report). */
  backgroundMs?(): number;
}

/** What a walk did: tar entries covered, layers read (not cached), paths it had to remember. */
export interface WalkStats {
  entries: number;
  layersRead: number;
  remembered: number;
}

const norm = (p: string) => p.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");

/** Scans one layer's tar: every wanted file parsed by the first scanner that wants it. */
export async function scanLayerTar(layer: Layer, scanners: FileScanner[], signal?: AbortSignal): Promise<LayerScan> {
  const scan: LayerScan = { files: [], hides: [], opaques: [], entries: 0 };
  /** Files parsed in this layer, for hardlinks to them later in the same tar. */
  const parsed = new Map<string, LayerScan["files"][number]>();
  for await (const { entry, body } of readTar(await layer.uncompressed(signal))) {
    scan.entries++;
    const path = norm(entry.path);
    const target = entry.type === "hardlink" && entry.linkname !== undefined ? parsed.get(norm(entry.linkname)) : undefined;
    if (target) {
      await body.cancel();
      const f = { path, scanner: target.scanner, data: target.data };
      scan.files.push(f);
      parsed.set(path, f);
      continue;
    }
    const wh = parseWhiteout(path);
    if (wh) {
      await body.cancel();
      if (wh.kind === "opaque") scan.opaques.push(norm(wh.dir));
      else if (wh.kind === "delete") scan.hides.push(norm(`${wh.dir}/${wh.target}`));
      continue;
    }
    const s = path && entry.type === "file" ? scanners.find((x) => x.wants(path, entry)) : undefined;
    if (s) {
      const data = await s.parse(path, entry, body);
      if (data !== undefined) {
        const f = { path, scanner: s.name, data };
        scan.files.push(f);
        parsed.set(path, f);
      } else scan.hides.push(path);
      continue;
    }
    await body.cancel();
    if (path && entry.type !== "dir" && entry.type !== "file") scan.hides.push(path);
  }
  return scan;
}

/**
 * Applies every layer's scan from the top layer down, handing each scanner the data of the files it wanted,
 * visible ones once (from the layer that wins). Memory holds what the scans hold (package files, whiteouts,
 * symlinks), never the list of a layer's files: a 100k-file image costs what its interesting files cost.
 * @example await walkLayers(await img.layers(), [myScanner], { cache })
 */
export async function walkLayers(layers: Layer[], scanners: FileScanner[], opts: { cache?: LayerScanCache; signal?: AbortSignal } = {}): Promise<WalkStats> {
  const stats: WalkStats = { entries: 0, layersRead: 0, remembered: 0 };
  const hidden = new Set<string>();
  const opaque = new Set<string>();
  const isHidden = (p: string): boolean => {
    if (hidden.has(p) || opaque.has("")) return true;
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) {
      const dir = p.slice(0, i);
      if (hidden.has(dir) || opaque.has(dir)) return true;
    }
    return false;
  };
  const byName = new Map(scanners.map((s) => [s.name, s]));
  for (let li = layers.length - 1; li >= 0; li--) {
    opts.signal?.throwIfAborted();
    const layer = layers[li]!;
    const diffId = await layer.diffId();
    let scan = await opts.cache?.get(diffId).catch(() => undefined);
    if (!scan) {
      scan = await scanLayerTar(layer, scanners, opts.signal);
      stats.layersRead++;
      await opts.cache?.put(diffId, scan).catch(() => undefined);
    }
    stats.entries += scan.entries;
    for (const f of scan.files) {
      const s = byName.get(f.scanner);
      if (!s) continue;
      const h = isHidden(f.path);
      if (!h || s.keepsHidden) s.add(f.path, f.data, li, h);
    }
    // A layer's entries hide what lies below it, never its own siblings.
    for (const f of scan.files) hidden.add(f.path);
    for (const p of scan.hides) hidden.add(p);
    for (const p of scan.opaques) opaque.add(p);
  }
  stats.remembered = hidden.size + opaque.size;
  return stats;
}

/** Reads a body into bytes, at most `max` (the rest is cancelled); undefined when larger. */
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

/** Reads a body as UTF-8 text of at most `max` bytes. */
export async function readText(body: ReadableStream<Uint8Array>, max: number): Promise<string | undefined> {
  const b = await readCapped(body, max);
  return b && new TextDecoder().decode(b);
}
