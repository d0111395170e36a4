// sameAsLower: whether an upperdir entry is only a copy-up of what the lower layers already show (a `chmod -R`,
// `chown -R` or lock-file open that changed nothing), so the layer can leave it out as BuildKit's differ does.

import { Buffer } from "node:buffer";
import { lstat, open, readlink } from "node:fs/promises";

const CHUNK = 256 * 1024;
// One pair of buffers for every comparison (the snapshot compares one file at a time): no garbage per file.
let buffers: [Uint8Array, Uint8Array] | undefined;
let busy = false;

/** True when two files hold the same bytes (both are read in step, stopping at the first difference). */
async function sameContent(a: string, b: string, size: number): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, "r"), open(b, "r")]);
  const shared = !busy;
  if (shared) busy = true;
  try {
    const [ba, bb] = shared ? (buffers ??= [new Uint8Array(CHUNK), new Uint8Array(CHUNK)]) : [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
    for (let pos = 0; pos < size;) {
      const want = Math.min(ba.length, size - pos);
      const [ra, rb] = await Promise.all([fa.read(ba, 0, want, pos), fb.read(bb, 0, want, pos)]);
      if (ra.bytesRead !== want || rb.bytesRead !== want) return false;
      if (Buffer.compare(ba.subarray(0, want), bb.subarray(0, want)) !== 0) return false; // memcmp, not a JS loop
      pos += want;
    }
    return true;
  } finally {
    if (shared) busy = false;
    await Promise.all([fa.close(), fb.close()]);
  }
}

/**
 * Whether the upper entry at `upper` (its true mode `mode`: the snapshot may have opened it up to read it)
 * is the same as the lower one at `lower`, by BuildKit's overlay differ (util/overlay `sameDirent`, continuity's
 * rules): same type, mode, owner and device; for non-directories also the same size and mtime, and when both
 * mtimes have no sub-second part (unpacked from a tar, so possibly truncated) the same content or link target.
 * A directory's mtime is not compared. An upper entry with a file capability is never "the same" (the lower's
 * xattrs are not read here). Anything that cannot be read counts as changed: the entry is then kept.
 */
export async function sameAsLower(upper: string, lower: string, mode: number, hasCapability: boolean): Promise<boolean> {
  if (hasCapability) return false;
  try {
    const [st, lo] = await Promise.all([lstat(upper, { bigint: true }), lstat(lower, { bigint: true })]);
    const type = (m: bigint) => m & 0o170000n;
    if (type(lo.mode) !== type(st.mode) || Number(lo.mode & 0o7777n) !== (mode & 0o7777)) return false;
    if (lo.uid !== st.uid || lo.gid !== st.gid || lo.rdev !== st.rdev) return false;
    if (st.isDirectory()) return true;
    if (lo.size !== st.size) return false;
    const sec = (ns: bigint) => ns / 1_000_000_000n;
    const frac = (ns: bigint) => ns % 1_000_000_000n;
    if (sec(lo.mtimeNs) !== sec(st.mtimeNs)) return false;
    if (frac(lo.mtimeNs) !== 0n || frac(st.mtimeNs) !== 0n) return frac(lo.mtimeNs) === frac(st.mtimeNs);
    if (st.isSymbolicLink()) return (await readlink(upper)) === (await readlink(lower));
    if (!st.isFile() || st.size === 0n) return true;
    return await sameContent(upper, lower, Number(st.size));
  } catch {
    return false;
  }
}
