// Store garbage collection after each build: keep the store under a size cap, least recently used first, never
// removing what a running build pins (leases.ts). The default cap is BuildKit's default GC keep-storage as
// Docker 20.10 embeds it (worker/gc_unix.go detectDefaultGCCap): 10% of the filesystem holding the store,
// rounded up to a whole GB; 2 GB when the filesystem cannot be measured. See docs/decisions/111-store-gc.md.

import { readdir, readFile, rename, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Store } from "./blob-store.ts";
import { du, prune, treeBytes, usageOf, type PruneReport } from "./maintenance.ts";

/** BuildKit's fallback cap (`defaultCap`) when the disk size is unknown. */
export const FALLBACK_CAP = 2e9;

/**
 * The default store cap for the store folder `dir`: 10% of its filesystem, rounded up to a whole GB.
 * @example await defaultStoreCap("/home/me/.cache/kb") // 26000000000 on a 250 GB disk
 */
export async function defaultStoreCap(dir: string): Promise<number> {
  try {
    const st = await statfs(dir);
    const size = Number(st.bsize) * Number(st.blocks);
    if (!(size > 0)) return FALLBACK_CAP;
    return (Math.floor(size / 10 / 2 ** 30) + 1) * 1e9;
  } catch {
    return FALLBACK_CAP;
  }
}

/** The cap in force: an explicit one (flag or KB_CACHE_MAX_SIZE; 0 = no GC) or the default for the store. */
export async function storeCap(store: Store, explicit?: number): Promise<{ bytes: number; source: "default" | "set" }> {
  if (explicit !== undefined) return { bytes: explicit, source: "set" };
  return { bytes: await defaultStoreCap(store.dirs.root), source: "default" };
}

/**
 * Blobs + trees + cache records in bytes, cheaply: trees in `trees/` are complete and never change (they are
 * renamed into place whole), so each one's size is walked once and remembered in `gc-tree-sizes.json`.
 * The check after every build then costs a readdir and a stat per blob, not a walk of every extracted tree.
 */
export async function storeBytes(store: Store): Promise<number> {
  const memoFile = join(store.dirs.root, "gc-tree-sizes.json");
  const memo: Record<string, number> = await readFile(memoFile, "utf8").then((t) => JSON.parse(t) as Record<string, number>, () => ({}));
  const next: Record<string, number> = {};
  let trees = 0;
  for (const name of await readdir(store.dirs.trees).catch(() => [] as string[])) {
    const bytes = typeof memo[name] === "number" ? memo[name]! : await treeBytes(join(store.dirs.trees, name));
    next[name] = bytes;
    trees += bytes;
  }
  if (JSON.stringify(next) !== JSON.stringify(memo)) {
    const tmp = store.tempPath(".json");
    await writeFile(tmp, JSON.stringify(next)).then(() => rename(tmp, memoFile)).catch(() => undefined);
  }
  const [blobs, cache] = await Promise.all([usageOf(store.dirs.blobs, false), usageOf(store.dirs.cache, false)]);
  return blobs.bytes + trees + cache.bytes;
}

/** What one GC pass did. */
export interface GcReport extends PruneReport {
  cap: number;
  before: number;
  after: number;
}

/** Options of {@link collectGarbage}. */
export interface GcOptions {
  /** Removes a tree kb cannot remove itself (rootless trees with files of other ids): the helper's rmtree. */
  removeTree?: (dir: string) => Promise<void>;
}

/**
 * Brings the store under `cap` bytes (blobs + trees + cache records): least recently used records and trees
 * go first, then the blobs nothing references any more. Does nothing when the store is already under the cap
 * or the cap is 0. Pinned entries are skipped (and reported).
 * @example await collectGarbage(store, 10e9)
 */
export async function collectGarbage(store: Store, cap: number, opts: GcOptions = {}): Promise<GcReport | undefined> {
  if (cap <= 0) return undefined;
  const used = (u: Awaited<ReturnType<typeof du>>) => u.blobs.bytes + u.trees.bytes + u.cache.bytes;
  if ((await storeBytes(store)) <= cap) return undefined;
  const before = used(await du(store));
  if (before <= cap) return undefined;
  // Unreferenced blobs get no grace here: under the gc lock and with leases, a running build's blobs are pinned.
  const r = await prune(store, { keepStorage: cap, graceMs: 0, removeTree: opts.removeTree });
  return { ...r, cap, before, after: used(await du(store)) };
}
