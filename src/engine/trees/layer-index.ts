// What a stage's filesystem holds, answered from per-layer indexes (paths, whiteouts, passwd/group) without
// extracting anything. A layer is read once to index it; the index is kept in the store by diffID.

import type { Store } from "../../store/index.ts";
import { readTar } from "../../layer/index.ts";
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from "../../layer/whiteout.ts";
import { cacheKey } from "../core/cache-key.ts";
import type { StageLayer } from "../core/stage-state.ts";

/** The index of one layer. Paths are relative, without leading "/" or trailing "/". */
export interface LayerIndex {
  dirs: string[];
  others: string[];
  whiteouts: string[];
  opaques: string[];
  /** Small files the builder needs to read: etc/passwd, etc/group. */
  files: Record<string, string>;
  /** Symlinks and their targets, to place COPY, WORKDIR and mount paths through them as Docker does. */
  links: Record<string, string>;
  /**
   * Each listed directory's permission bits, uid, gid and mtime (the tar header's): a COPY or WORKDIR layer lists
   * the existing directories above what it adds, with these, as BuildKit's differ does.
   */
  dirMeta?: Record<string, DirMeta>;
}

/** [mode & 0o7777, uid, gid, mtime in seconds] of a directory entry. */
export type DirMeta = [number, number, number, number];

const WANTED = new Set(["etc/passwd", "etc/group"]);
const MAX_WANTED = 1 << 20;

function clean(p: string): string {
  return p.replace(/^\.?\/+/, "").replace(/\/+$/, "");
}

/** Builds a layer's index from its entries in archive order (the bodies of etc/passwd and etc/group aside). */
export class IndexBuilder {
  // Keyed by paths from the layer's tar: no prototype, so an entry named "__proto__" is a key like any other.
  readonly idx: LayerIndex = { dirs: [], others: [], whiteouts: [], opaques: [], files: {}, links: Object.create(null), dirMeta: Object.create(null) };
  #implied = new Set<string>();

  /** Records one entry; returns its cleaned path when its body is one the index keeps (etc/passwd, etc/group). */
  add(entry: { path: string; type: string; size: number; linkname?: string; mode?: number; uid?: number; gid?: number; mtime?: number }): string | undefined {
    const { idx } = this;
    const p = clean(entry.path);
    // Parents an entry implies exist after extraction even when the tar does not list them.
    for (let a = p.lastIndexOf("/"); a > 0; a = p.lastIndexOf("/", a - 1)) this.#implied.add(p.slice(0, a));
    const base = p.slice(p.lastIndexOf("/") + 1);
    const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
    if (base === OPAQUE_WHITEOUT) idx.opaques.push(dir);
    else if (base.startsWith(WHITEOUT_PREFIX)) idx.whiteouts.push(dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length));
    else if (entry.type === "dir") {
      idx.dirs.push(p);
      if (entry.mode !== undefined && entry.uid !== undefined && entry.gid !== undefined && entry.mtime !== undefined) idx.dirMeta![p] = [entry.mode & 0o7777, entry.uid, entry.gid, Math.floor(entry.mtime)];
    }
    else {
      idx.others.push(p);
      if (entry.type === "symlink") idx.links[p] = entry.linkname ?? "";
    }
    return entry.type === "file" && WANTED.has(p) && entry.size <= MAX_WANTED ? p : undefined;
  }

  finish(): LayerIndex {
    const listed = new Set(this.idx.dirs);
    for (const d of this.#implied) if (!listed.has(d)) this.idx.dirs.push(d);
    return this.idx;
  }
}

/** Reads a layer's tar once and indexes it. */
export async function indexLayer(stream: ReadableStream<Uint8Array>): Promise<LayerIndex> {
  const b = new IndexBuilder();
  for await (const { entry, body } of readTar(stream)) {
    const keep = b.add(entry);
    if (keep) b.idx.files[keep] = await new Response(body).text();
    else await body.cancel();
  }
  return b.finish();
}

// v3: with symlink targets (links); v4: with directory metadata (dirMeta).
const indexKey = (diffId: string) => cacheKey("", "layer-index-v4", diffId);

/** Stores an index made elsewhere (while extracting the layer's tree), unless one is there. */
export async function rememberIndex(store: Store, diffId: string, idx: LayerIndex): Promise<void> {
  const key = indexKey(diffId);
  if ((await store.cache.get(key))?.kind === "layer-index") return;
  await store.cache.put(key, { kind: "layer-index", data: idx });
}

/** The index of a layer: from the store's cache, or by reading the layer once (and remembering it). */
export async function layerIndex(store: Store, l: StageLayer, signal?: AbortSignal): Promise<LayerIndex> {
  const key = indexKey(l.diffId);
  const rec = await store.cache.get(key);
  if (rec && rec.kind === "layer-index") return rec.data as LayerIndex;
  const idx = await indexLayer(await l.layer.uncompressed(signal));
  await store.cache.put(key, { kind: "layer-index", data: idx });
  return idx;
}

/** A read-only view of a stage's filesystem built from layer indexes (top layer wins). */
interface IndexSets { dirs: Set<string>; others: Set<string>; whiteouts: Set<string>; opaques: string[]; files: Record<string, string>; links: Record<string, string>; dirMeta: Record<string, DirMeta> }

const toSets = (l: LayerIndex): IndexSets => ({ dirs: new Set(l.dirs), others: new Set(l.others), whiteouts: new Set(l.whiteouts), opaques: l.opaques, files: l.files, links: l.links ?? {}, dirMeta: l.dirMeta ?? {} });

export class StageFs {
  #indexes: Promise<IndexSets[]> | undefined;
  constructor(private readonly store: Store, private readonly layers: StageLayer[], private readonly signal?: AbortSignal) {}

  #all(): Promise<IndexSets[]> {
    this.#indexes ??= Promise.all(this.layers.map(async (l) => toSets(await layerIndex(this.store, l, this.signal))));
    return this.#indexes;
  }

  /** "dir", "other" or undefined (absent or deleted) for a path. */
  async kind(path: string): Promise<"dir" | "other" | undefined> {
    return (await this.visible(path))?.kind;
  }

  /**
   * What a path is, which layer (index into the stage's layers, bottom 0) holds the entry that is seen there and,
   * for a symlink, its target; undefined when it is absent or deleted. The root is a directory of no layer (-1).
   */
  async visible(path: string): Promise<{ kind: "dir" | "other"; layer: number; link?: string } | undefined> {
    const p = clean(path);
    if (p === "") return { kind: "dir", layer: -1 };
    const idx = await this.#all();
    for (let i = idx.length - 1; i >= 0; i--) {
      const l = idx[i]!;
      if (l.dirs.has(p)) return { kind: "dir", layer: i };
      if (l.others.has(p)) {
        const link = Object.hasOwn(l.links, p) ? l.links[p] : undefined; // an entry named "constructor" is no link
        return { kind: "other", layer: i, ...(typeof link === "string" ? { link } : {}) };
      }
      if (l.whiteouts.has(p)) return undefined;
      if (l.opaques.some((o) => o === "" || p.startsWith(`${o}/`))) return undefined;
      for (let a = p.lastIndexOf("/"); a > 0; a = p.lastIndexOf("/", a - 1)) if (l.whiteouts.has(p.slice(0, a)) || l.others.has(p.slice(0, a))) return undefined;
    }
    return undefined;
  }

  /**
   * A directory's mode bits, owner and mtime as the layer that shows it lists them; undefined when the path is no
   * directory of a layer, or its layer only implies it (a parent no tar header describes).
   */
  async dirMeta(path: string): Promise<{ mode: number; uid: number; gid: number; mtime: number } | undefined> {
    const v = await this.visible(path);
    if (v?.kind !== "dir" || v.layer < 0) return undefined;
    const meta = (await this.#all())[v.layer]!.dirMeta;
    const p = clean(path);
    if (!Object.hasOwn(meta, p)) return undefined;
    const [mode, uid, gid, mtime] = meta[p]!;
    return { mode, uid, gid, mtime };
  }

  /** A small file's text (etc/passwd, etc/group), from the topmost layer that has or deletes it. */
  async readSmallFile(path: string): Promise<string | undefined> {
    const p = clean(path);
    const idx = await this.#all();
    for (let i = idx.length - 1; i >= 0; i--) {
      const l = idx[i]!;
      if (p in l.files) return l.files[p];
      if (l.whiteouts.has(p) || l.others.has(p)) return undefined;
    }
    return undefined;
  }
}

const views = new WeakMap<object, { count: number; fs: StageFs }>();

/**
 * The StageFs of a stage as it is now: one per stage and layer count, so the steps of a stage that ask
 * (a COPY's destination, --chown parents, user names) share the layer indexes instead of re-reading them.
 */
export function stageFsOf(store: Store, st: { layers: StageLayer[] }, signal?: AbortSignal): StageFs {
  const v = views.get(st);
  if (v && v.count === st.layers.length) return v.fs;
  const fs = new StageFs(store, [...st.layers], signal);
  views.set(st, { count: st.layers.length, fs });
  return fs;
}
