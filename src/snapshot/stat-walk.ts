// The stat-walk snapshot (no overlayfs): index a tree before RUN, then yield what changed after it.

import { lstat, readdir, readlink } from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import type { TarEntry } from "../layer/tar-entry.ts";
import { fileBody, joinRel, markerEntry, statToEntry } from "./_entry.ts";
import { relPath } from "./overlay-diff.ts";
import type { DiffEntry, IdMapper } from "./types.ts";

/** What identifies one version of a path: a change in any field means "changed". */
export interface IndexEntry {
  sig: string;
  dir: boolean;
}

/** Path (relative, no leading slash) → signature, plus each dir's children (for deletions). */
export interface TreeIndex {
  entries: Map<string, IndexEntry>;
  children: Map<string, string[]>;
}

/** Options of {@link indexTree} and {@link diffAgainstIndex}. */
export interface StatWalkOptions {
  /** Paths under root (e.g. "/proc", kb's own folder) skipped with everything below them. @default [] */
  skip?: string[];
  /** Host → container ids. @default identity */
  idMap?: IdMapper;
}

/**
 * The signature: type, mode, ids, size, mtime, ctime, inode, link target. ctime is set by the
 * kernel on every content or metadata change and cannot be set by a process, so no hashing is needed.
 */
function signature(st: Stats, link: string | undefined): string {
  return `${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.rdev}:${link ?? ""}`;
}

async function* walk(root: string, rel: string, skip: Set<string>): AsyncGenerator<{ rel: string; st: Stats; link?: string; names?: string[] }> {
  const names = (await readdir(path.join(root, rel))).filter((n) => !skip.has(joinRel(rel, n))).sort();
  yield { rel, st: await lstat(path.join(root, rel)), names };
  for (const n of names) {
    const r = joinRel(rel, n);
    const abs = path.join(root, r);
    const st = await lstat(abs);
    if (st.isDirectory()) yield* walk(root, r, skip);
    else yield { rel: r, st, link: st.isSymbolicLink() ? await readlink(abs) : undefined };
  }
}

/**
 * Indexes `root` before a RUN: one lstat per path, a short signature string per entry.
 * @example const idx = await indexTree("/", { skip: ["/proc", "/sys", "/dev"] });
 */
export async function indexTree(root: string, opts: StatWalkOptions = {}): Promise<TreeIndex> {
  const skip = new Set((opts.skip ?? []).map(relPath));
  const index: TreeIndex = { entries: new Map(), children: new Map() };
  for await (const { rel, st, link, names } of walk(root, "", skip)) {
    index.entries.set(rel, { sig: signature(st, link), dir: st.isDirectory() });
    if (names) index.children.set(rel, names);
  }
  return index;
}

/**
 * Walks `root` again and yields added and changed paths (with their ancestor dirs, as an
 * upperdir would hold them) and a `.wh.NAME` for each deleted path (not for its children).
 * Files sharing an inode become hardlink entries. Bodies open lazily.
 */
export async function* diffAgainstIndex(root: string, index: TreeIndex, opts: StatWalkOptions = {}): AsyncGenerator<DiffEntry> {
  const skip = new Set((opts.skip ?? []).map(relPath));
  const links = new Map<string, string>();
  const pending: { rel: string; entry: TarEntry; emitted: boolean }[] = [];
  function* flush(): Generator<DiffEntry> {
    for (const p of pending) if (!p.emitted && p.rel !== "") { p.emitted = true; yield { entry: p.entry }; }
  }
  for await (const { rel, st, link, names } of walk(root, "", skip)) {
    const depth = rel === "" ? 0 : rel.split("/").length;
    const old = index.entries.get(rel);
    const changed = !old || old.sig !== signature(st, link);
    const entry = statToEntry(rel, st, link, opts.idMap);
    if (names) {
      pending.length = depth;
      pending.push({ rel, entry: entry!, emitted: false });
      if (changed) yield* flush();
      const now = new Set(names);
      const gone = old?.dir ? (index.children.get(rel) ?? []).filter((n) => !now.has(n)) : [];
      if (gone.length) yield* flush();
      for (const n of gone) yield { entry: markerEntry(joinRel(rel, `.wh.${n}`), Math.floor(st.mtimeMs / 1000)) };
      continue;
    }
    if (!changed || !entry) continue;
    pending.length = depth;
    yield* flush();
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) { yield { entry: { ...entry, type: "hardlink", size: 0, linkname: first } }; continue; }
      links.set(key, rel);
    }
    yield entry.type === "file" ? { entry, body: fileBody(path.join(root, rel), entry.size) } : { entry };
  }
}
