// diffUpperDir: turns an overlayfs upperdir into the layer's entry stream (whiteouts, opaque dirs, hardlinks).

import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { fileBody, joinRel, markerEntry, snapshotReadError, statToEntry } from "./_entry.ts";
import type { DiffEntry, IdMapper } from "./types.ts";
import { sameAsLower } from "./same-as-lower.ts";
import { readXattrs, type XattrMap } from "./xattrs.ts";

/** Options of {@link diffUpperDir}. */
export interface UpperDiffOptions {
  /** Host ids → container ids (rootless). @default identity */
  idMap?: IdMapper;
  /** Container paths (e.g. "/run/secrets") skipped with everything under them. @default [] */
  exclude?: string[];
  /** Pre-read xattrs; @default readXattrs(upperDir) through the kb-sandbox helper */
  xattrs?: XattrMap;
  /** Helper binary for reading xattrs. @default resolveHelperPath() */
  helperPath?: string;
  /** Relative path → the true mode of an entry whose mode was opened up to read it (unlockTree). @default none */
  modeOverrides?: Map<string, number>;
  /**
   * The host path of what the lower layers show at a relative path, or undefined where they show nothing. With
   * it, an entry that is only an unchanged copy-up (a no-op `chmod -R`, a lock file opened for writing) is left
   * out, as BuildKit's differ does (sameAsLower); a directory left out comes back as the parent of a change.
   * @default none: every upperdir entry is part of the layer
   */
  lower?: (relPath: string) => Promise<string | undefined>;
}

const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

function isOpaque(x: Record<string, string> | undefined): boolean {
  return x?.["trusted.overlay.opaque"] === "y" || x?.["user.overlay.opaque"] === "y";
}

function isXattrWhiteout(x: Record<string, string> | undefined): boolean {
  return x !== undefined && ("trusted.overlay.whiteout" in x || "user.overlay.whiteout" in x);
}

function strip(x: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!x) return undefined;
  const kept = Object.entries(x).filter(([k]) => !OVERLAY_XATTR.test(k));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/** Normalises "/a/b/" to "a/b". */
export function relPath(p: string): string {
  return path.posix.normalize("/" + p).slice(1).replace(/\/$/, "");
}

/**
 * Walks an upperdir in sorted order and yields what the RUN changed: 0/0 char devices and
 * `*.overlay.whiteout` files become `.wh.NAME`, opaque dirs get `DIR/.wh..wh..opq`, overlay
 * xattrs are dropped, ids mapped back, and files sharing an inode become hardlink entries.
 * Cost: O(entries in the upperdir). Bodies open lazily; read or cancel each before the next.
 * @example for await (const { entry, body } of diffUpperDir(upper)) { ... }
 */
export async function* diffUpperDir(upperDir: string, opts: UpperDiffOptions = {}): AsyncGenerator<DiffEntry> {
  const xattrs = opts.xattrs ?? (await readXattrs(upperDir, opts.helperPath));
  const exclude = new Set((opts.exclude ?? []).map(relPath));
  const links = new Map<string, string>();
  const rootX = xattrs.get(".");
  if (isOpaque(rootX)) yield { entry: markerEntry(".wh..wh..opq", 0) };
  yield* walk(upperDir, "", { idMap: opts.idMap, xattrs, skip: exclude, links, modes: opts.modeOverrides, lower: opts.lower, pending: [] });
}

interface WalkState {
  idMap?: IdMapper;
  xattrs: XattrMap;
  skip: Set<string>;
  links: Map<string, string>;
  modes?: Map<string, number>;
  lower?: (relPath: string) => Promise<string | undefined>;
  /** Unchanged directories on the current path, written only if something below them is (as their parents). */
  pending: DiffEntry[];
}

/** Whether the lower layers show the same thing at `r` (only with a `lower` resolver). */
async function unchanged(s: WalkState, r: string, abs: string, mode: number, x: Record<string, string> | undefined): Promise<boolean> {
  if (!s.lower) return false;
  const lo = await s.lower(r);
  return lo !== undefined && (await sameAsLower(abs, lo, mode, x?.["security.capability"] !== undefined));
}

/** `out` preceded by the pending parent directories it needs, which are then written. */
function* withParents(s: WalkState, out: DiffEntry): Generator<DiffEntry> {
  yield* s.pending;
  s.pending.length = 0;
  yield out;
}

async function* walk(root: string, rel: string, s: WalkState): AsyncGenerator<DiffEntry> {
  const dir = path.join(root, rel);
  const names = (await readdir(dir).catch((e) => { throw snapshotReadError(e, dir); })).sort();
  for (const name of names) {
    const r = joinRel(rel, name);
    if (s.skip.has(r)) continue;
    const abs = path.join(root, r);
    const st = await lstat(abs).catch((e) => { throw snapshotReadError(e, abs); });
    const x = s.xattrs.get(r);
    const mtime = Math.floor(st.mtimeMs / 1000);
    if ((st.isCharacterDevice() && st.rdev === 0) || (st.isFile() && isXattrWhiteout(x))) {
      yield* withParents(s, { entry: markerEntry(joinRel(rel, `.wh.${name}`), mtime) });
      continue;
    }
    const entry = statToEntry(r, st, st.isSymbolicLink() ? await readlink(abs) : undefined, s.idMap);
    if (!entry) continue;
    const trueMode = s.modes?.get(r);
    if (trueMode !== undefined) entry.mode = trueMode & 0o7777;
    const kept = strip(x);
    if (kept) entry.xattrs = kept;
    const opaque = entry.type === "dir" && isOpaque(x);
    const same = !opaque && (await unchanged(s, r, abs, trueMode ?? st.mode, x));
    if (entry.type === "dir") {
      if (same) s.pending.push({ entry });
      else yield* withParents(s, { entry });
      if (opaque) yield { entry: markerEntry(joinRel(r, ".wh..wh..opq"), mtime) };
      yield* walk(root, r, s);
      if (s.pending.at(-1)?.entry === entry) s.pending.pop();
      continue;
    }
    if (same) continue;
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = s.links.get(key);
      if (first !== undefined) {
        yield* withParents(s, { entry: { ...entry, type: "hardlink", size: 0, linkname: first } });
        continue;
      }
      s.links.set(key, r);
    }
    yield* withParents(s, entry.type === "file" ? { entry, body: fileBody(abs, entry.size) } : { entry });
  }
}
