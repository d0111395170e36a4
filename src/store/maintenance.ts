// Store maintenance: du (sizes), prune (tmp leftovers, LRU cache records, unreferenced blobs, old trees), verify.

import { join } from "node:path";
import { lstat, readdir, rm, stat, unlink } from "node:fs/promises";
import { digestOfStream } from "../image/digest.ts";
import { isDigest, type Digest } from "../image/types.ts";
import type { Store } from "./blob-store.ts";
import { pidAlive } from "./lock.ts";
import { fileStream } from "./file-stream.ts";
import { blobRefs } from "./_refs.ts";
import { GC_LOCK, livePins } from "./leases.ts";

/** A count of things and their bytes. */
export interface Usage {
  count: number;
  bytes: number;
}

/** What {@link du} reports. */
export interface StoreUsage {
  blobs: Usage;
  trees: Usage;
  cache: Usage;
  tmp: Usage;
  total: number;
}

/** Options of {@link prune}. */
export interface PruneOptions {
  /** Remove every record, tree and blob (tmp files of running processes stay). @default false */
  all?: boolean;
  /** Evict least recently used records and trees until blobs + trees + cache fit in this many bytes. */
  keepStorage?: number;
  /** Remove records and trees not used for this many ms. */
  olderThan?: number;
  /** Unreferenced blobs younger than this survive (a running build may not have written its record yet). @default 600000 */
  graceMs?: number;
  /** Removes a tree that rm cannot (EACCES/EPERM: rootless trees holding files of other ids), e.g. the helper's rmtree. */
  removeTree?: (dir: string) => Promise<void>;
}

/** What {@link prune} removed, and what it kept because a running build uses it. */
export interface PruneReport {
  tmp: number;
  records: number;
  trees: number;
  blobs: number;
  freedBytes: number;
  /** Entries that would have gone but are pinned by a running build's lease (store/leases.ts). */
  skipped: { records: number; trees: number; blobs: number; bytes: number };
  /** Live leases (running builds) seen; stale leases (of dead processes) removed. */
  leases: number;
  staleLeases: number;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** Bytes under a path (lstat walk; hard links counted once per link). */
export async function treeBytes(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const name of await entries(path)) n += await treeBytes(join(path, name));
  return n;
}

export async function usageOf(dir: string, deep: boolean): Promise<Usage> {
  const names = await entries(dir);
  let bytes = 0;
  for (const name of names) bytes += deep ? await treeBytes(join(dir, name)) : ((await lstat(join(dir, name)).catch(() => undefined))?.size ?? 0);
  return { count: names.length, bytes };
}

/**
 * Disk usage of a store by part (this is `kb cache du`).
 * @example const u = await du(store); console.log(u.blobs.bytes)
 */
export async function du(store: Store): Promise<StoreUsage> {
  const [blobs, trees, cache, tmp] = await Promise.all([
    usageOf(store.dirs.blobs, false),
    usageOf(store.dirs.trees, true),
    usageOf(store.dirs.cache, false),
    usageOf(store.dirs.tmp, true),
  ]);
  return { blobs, trees, cache, tmp, total: blobs.bytes + trees.bytes + cache.bytes + tmp.bytes };
}

/** tmp/ names start with "<pid>-": remove those whose process is gone; unknown names after an hour. */
async function pruneTmp(store: Store, report: PruneReport): Promise<void> {
  for (const name of await entries(store.dirs.tmp)) {
    const path = join(store.dirs.tmp, name);
    const m = /^(\d+)-/.exec(name);
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    const dead = m ? !pidAlive(Number(m[1])) : Date.now() - st.mtimeMs > 3_600_000;
    if (!dead) continue;
    report.freedBytes += await treeBytes(path);
    await rm(path, { recursive: true, force: true });
    report.tmp++;
  }
}

async function removeTree(store: Store, name: string, report: PruneReport, fallback?: (dir: string) => Promise<void>): Promise<number> {
  const path = join(store.dirs.trees, name);
  let bytes = 0;
  try {
    // A tree in use is locked by its user ("tree-<name>"): skip it rather than wait.
    await store.withLock(`tree-${name}`, async () => {
      bytes = await treeBytes(path);
      try {
        await rm(path, { recursive: true, force: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (!fallback || (code !== "EACCES" && code !== "EPERM")) throw e;
        await fallback(path);
      }
    }, { timeoutMs: 0 });
  } catch {
    return 0;
  }
  report.trees++;
  report.freedBytes += bytes;
  return bytes;
}

/**
 * Frees space (this is `kb cache prune`). Safe while other kb processes use the store: tmp files of live
 * processes, locked trees and recent unreferenced blobs are kept.
 * @example await prune(store, { keepStorage: 10 * 2 ** 30 })
 */
export async function prune(store: Store, opts: PruneOptions = {}): Promise<PruneReport> {
  // Under the gc lock no build can add a pin, so what is pinned now is all a running build may use.
  return store.withLock(GC_LOCK, () => pruneLocked(store, opts), { timeoutMs: 3_600_000 });
}

async function pruneLocked(store: Store, opts: PruneOptions): Promise<PruneReport> {
  const pins = await livePins(store.dirs.root);
  const report: PruneReport = { tmp: 0, records: 0, trees: 0, blobs: 0, freedBytes: 0, skipped: { records: 0, trees: 0, blobs: 0, bytes: 0 }, leases: pins.leases, staleLeases: pins.stale };
  const now = Date.now();
  const cutoff = opts.all ? Infinity : opts.olderThan !== undefined ? now - opts.olderThan : -Infinity;
  await pruneTmp(store, report);

  // Records and trees are the roots, ordered least recently used first.
  type Item = { kind: "record" | "tree"; name: string; lastUsed: number; bytes: number; refs: Set<Digest> };
  const items: Item[] = [];
  const refsMemo = new Map<Digest, Digest[]>();
  for (const { key, record, bytes } of await store.cache.list()) {
    items.push({ kind: "record", name: key, lastUsed: record.lastUsed, bytes, refs: await blobRefs(store, record.refs, refsMemo) });
  }
  for (const name of await entries(store.dirs.trees)) {
    const st = await stat(join(store.dirs.trees, name)).catch(() => undefined);
    if (st) items.push({ kind: "tree", name, lastUsed: st.mtimeMs, bytes: -1, refs: new Set() });
  }
  items.sort((a, b) => a.lastUsed - b.lastUsed);

  const refCount = new Map<Digest, number>();
  for (const it of items) for (const d of it.refs) refCount.set(d, (refCount.get(d) ?? 0) + 1);
  const blobSizes = new Map<Digest, number>();
  for (const name of await entries(store.dirs.blobs)) {
    const d = `sha256:${name}`;
    if (isDigest(d)) blobSizes.set(d, (await store.stat(d))?.size ?? 0);
  }
  let total = 0;
  if (opts.keepStorage !== undefined) {
    const u = await du(store);
    total = u.blobs.bytes + u.trees.bytes + u.cache.bytes;
  }

  const orphaned = new Set<Digest>(); // blobs whose last record was evicted: no grace period
  const evict = async (it: Item) => {
    if (it.kind === "record" ? pins.records.has(it.name) : pins.trees.has(it.name)) {
      report.skipped[it.kind === "record" ? "records" : "trees"]++;
      if (it.bytes > 0) report.skipped.bytes += it.bytes;
      return;
    }
    if (it.kind === "record") {
      await store.cache.delete(it.name);
      report.records++;
      report.freedBytes += it.bytes;
      total -= it.bytes;
      for (const d of it.refs) {
        const left = (refCount.get(d) ?? 1) - 1;
        refCount.set(d, left);
        if (left === 0) {
          total -= blobSizes.get(d) ?? 0;
          orphaned.add(d);
        }
      }
    } else {
      total -= await removeTree(store, it.name, report, opts.removeTree);
    }
  };
  for (const it of items) {
    const old = it.lastUsed < cutoff;
    const overBudget = opts.keepStorage !== undefined && total > opts.keepStorage;
    if (old || overBudget) await evict(it);
  }

  const graceCutoff = opts.all ? Infinity : now - (opts.graceMs ?? 600_000);
  for (const [d, size] of blobSizes) {
    if ((refCount.get(d) ?? 0) > 0) continue;
    const st = await stat(store.path(d)).catch(() => undefined);
    if (!st || (st.mtimeMs > graceCutoff && !orphaned.has(d))) continue;
    if (pins.blobs.has(d)) {
      report.skipped.blobs++;
      report.skipped.bytes += size;
      continue;
    }
    await store.delete(d);
    report.blobs++;
    report.freedBytes += size;
  }
  return report;
}

/** What {@link verify} found. */
export interface VerifyReport {
  checked: number;
  bad: Digest[];
}

/**
 * Re-hashes every blob; blobs whose content does not match their name are reported and (by default) removed.
 * This is `kb cache verify`.
 * @example const { bad } = await verify(store)
 */
export async function verify(store: Store, opts: { remove?: boolean; signal?: AbortSignal } = {}): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, bad: [] };
  for (const name of await entries(store.dirs.blobs)) {
    const d = `sha256:${name}`;
    if (!isDigest(d)) continue;
    let got: string;
    try {
      got = (await digestOfStream(await fileStream(store.path(d), { signal: opts.signal }))).digest;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // pruned meanwhile
      throw e;
    }
    report.checked++;
    if (got === d) continue;
    report.bad.push(d);
    if (opts.remove ?? true) await unlink(store.path(d)).catch(() => {});
  }
  return report;
}

