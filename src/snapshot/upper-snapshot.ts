// openUpperSnapshot: the layer's entries from a RUN's upperdir, also when a rootless RUN left entries the
// caller cannot read (docs/decisions/062-rootless-snapshot-of-private-files.md).

import { KbError } from "../errors.ts";
import { hostToContainer, type IdMapping } from "../helper/ids.ts";
import { relockTree, unlockTree, type ModeOverrides } from "../helper/tree-access.ts";
import { diffUpperDir } from "./overlay-diff.ts";
import type { DiffEntry } from "./types.ts";
import { scanXattrs, type XattrMap } from "./xattrs.ts";

/** Options of {@link openUpperSnapshot}. */
export interface UpperSnapshotOptions {
  /** The RUN's user namespace map (rootless); ids are mapped back with it. @default none (root) */
  idMapping?: IdMapping;
  /** Container paths skipped with everything under them. @default [] */
  exclude?: string[];
  /** @default resolveHelperPath() */
  helperPath?: string;
  /** What the lower layers show at a path (see UpperDiffOptions.lower): unchanged copy-ups are left out. */
  lower?: (relPath: string) => Promise<string | undefined>;
}

/** An opened snapshot: iterate `entries` once; the upperdir is as the RUN left it when that ends. */
export interface UpperSnapshot {
  entries: AsyncGenerator<DiffEntry>;
  /** Paths whose modes were opened up for reading (and are put back when `entries` ends). */
  unlocked: number;
}

/**
 * Scans the upperdir (xattrs, and what the caller cannot read) before the layer is written, so setup
 * failures surface as themselves. When a rootless RUN left private entries (apt's 0700 `partial/`),
 * the helper opens them up as the namespace's root, the layer records their true modes, and the modes
 * are put back when `entries` finishes, fails or is returned early: the upperdir stays the RUN's result.
 * Nothing unreadable (the common case) costs nothing beyond the xattr walk diffUpperDir always did.
 * @example const snap = await openUpperSnapshot(upper, { idMapping }); await commitLayer(store, snap.entries, ...);
 */
export async function openUpperSnapshot(upperDir: string, opts: UpperSnapshotOptions = {}): Promise<UpperSnapshot> {
  const scan = await scanXattrs(upperDir, opts.helperPath);
  const idMap = opts.idMapping ? hostToContainer(opts.idMapping) : undefined;
  const base = { idMap, exclude: opts.exclude, helperPath: opts.helperPath, lower: opts.lower };
  if (scan.unreadable.length === 0) return { entries: diffUpperDir(upperDir, { ...base, xattrs: scan.xattrs }), unlocked: 0 };
  if (!opts.idMapping) {
    throw new KbError("SNAPSHOT", `Cannot read "${scan.unreadable[0]}" in "${upperDir}" to snapshot the RUN: permission denied`, {
      hint: "kb reads a RUN's changes as the user that runs it; run kb as root, or rootless (it then reads them inside the RUN's user namespace)",
    });
  }
  const mapping = opts.idMapping;
  const saved = await unlockTree(upperDir, mapping, { helperPath: opts.helperPath });
  let xattrs: XattrMap;
  try {
    xattrs = (await scanXattrs(upperDir, opts.helperPath)).xattrs; // user.* xattrs of private entries too
  } catch (e) {
    await relockTree(upperDir, mapping, saved, { helperPath: opts.helperPath });
    throw e;
  }
  return { entries: relockAfter(diffUpperDir(upperDir, { ...base, xattrs, modeOverrides: saved }), upperDir, mapping, saved, opts.helperPath), unlocked: saved.size };
}

async function* relockAfter(inner: AsyncGenerator<DiffEntry>, dir: string, idMap: IdMapping, saved: ModeOverrides, helperPath?: string): AsyncGenerator<DiffEntry> {
  let done = false;
  try {
    yield* inner;
    done = true;
  } finally {
    // A failed relock must fail a finished snapshot (the tree would be adopted with wrong modes),
    // but must not hide the error that stopped an unfinished one.
    await relockTree(dir, idMap, saved, { helperPath }).catch((e) => { if (done) throw e; });
  }
}
