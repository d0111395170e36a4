// Turning copy sources into layer entries: destination paths, owners, modes, mtimes, hardlinks.

import { memoryCheckpoint } from "../../runtime.ts";
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { posix } from "node:path";
import { unreadable, type ContextEntry } from "../../context/index.ts";
import { hashingTransform } from "../../image/digest.ts";
import type { TarEntry, TarInput } from "../../layer/index.ts";
import { fileStream } from "../../store/index.ts";
import type { ModeFn } from "./chmod.ts";

export interface EntryOptions {
  uid: number;
  gid: number;
  chmod?: ModeFn;
  /** Clamp mtimes to this (SOURCE_DATE_EPOCH), seconds. */
  mtimeClamp?: number;
  /** Keep each source entry's uid/gid (COPY --from without --chown) instead of uid/gid above. */
  keepOwners?: boolean;
  /** Hash each file's bytes as they are read, into Placed.contentSha (the COPY's cache key from the same read). */
  hashContent?: boolean;
}

/** A source file system entry and where it goes in the image (relative path, no leading "/"). */
export interface Placed {
  entry: ContextEntry;
  dest: string;
  /**
   * Which source (a directory, or one match of a wildcard) it came from. Files sharing an inode become hardlinks
   * only within one source: BuildKit copies each source, and each wildcard match, with a copier of its own.
   */
  source?: number;
  /** The destination directory made for the copy: --chmod leaves its 0755 alone, as BuildKit's MkdirAll does. */
  madeForCopy?: boolean;
  /**
   * With EntryOptions.hashContent, set by toTarInputs on a file it wrote (or linked): its bytes' sha256 hex, final
   * once the tar has consumed the body (when the next entry is asked for).
   */
  contentSha?: () => string;
}

const SMALL_FILE = 256 * 1024;

// Every small file is read into this one buffer and lent to the tar writer, which copies it into its own chunk
// before it asks for the next entry: a buffer per file was 50 MB of garbage for a 50 MB COPY, and the collections
// it cost (decision 138).
const smallBuf = new Uint8Array(SMALL_FILE);

/** A small file's bytes, lent (see smallBuf); at most `size` of them (a file that changed since the walk fails the tar's size check). */
function readSmall(e: ContextEntry): Uint8Array {
  let n = 0;
  try {
    const fd = openSync(e.absPath, "r");
    try {
      for (;;) {
        const r = readSync(fd, smallBuf, n, e.size - n, null);
        if (r === 0 || (n += r) >= e.size) break;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw unreadable(e.path, err);
  }
  return smallBuf.subarray(0, n);
}

/** A file's body for the tar, and (when asked) a way to its sha256 hex once the tar has read it. */
async function fileBody(e: ContextEntry, hash: boolean): Promise<{ body: TarInput["body"]; borrowed?: boolean; sha?: () => string }> {
  // Small files in one read (fewer awaits per file); bigger ones streamed. Either way one file at a time.
  if (e.size <= SMALL_FILE) {
    const b = readSmall(e);
    if (!hash) return { body: b, borrowed: true };
    const hex = createHash("sha256").update(b).digest("hex");
    return { body: b, borrowed: true, sha: () => hex };
  }
  const stream = await fileStream(e.absPath, { length: e.size }).catch((err) => Promise.reject(unreadable(e.path, err)));
  if (!hash) return { body: stream };
  const h = hashingTransform();
  return { body: stream.pipeThrough(h.stream), sha: () => h.digest().slice("sha256:".length) };
}

const TYPE: Record<string, TarEntry["type"] | undefined> = { file: "file", dir: "dir", symlink: "symlink" };

/** Converts placed entries into tar inputs, streaming file bodies; files seen twice by inode (in one source) become hardlinks. */
export async function* toTarInputs(placed: AsyncIterable<Placed>, o: EntryOptions): AsyncGenerator<TarInput> {
  const seenInodes = new Map<string, { dest: string; sha?: () => string }>();
  for await (const p of placed) {
    const { entry: e, dest, source, madeForCopy } = p;
    const type = TYPE[e.type];
    if (!type || !dest) continue;
    let mode = e.mode & 0o7777;
    if (o.chmod && !madeForCopy) mode = o.chmod(mode, type === "dir") & 0o7777;
    let mtime = Math.floor(e.mtimeMs / 1000);
    if (o.mtimeClamp !== undefined && mtime > o.mtimeClamp) mtime = o.mtimeClamp;
    const base: TarEntry = { path: dest, type, mode, uid: o.keepOwners ? e.uid : o.uid, gid: o.keepOwners ? e.gid : o.gid, size: 0, mtime };
    if (type === "symlink") {
      yield { entry: { ...base, linkname: e.linkTarget ?? "" } };
    } else if (type === "dir") {
      yield { entry: base };
    } else {
      const inoKey = `${source ?? 0}:${e.ino}`;
      const first = e.ino > 0 ? seenInodes.get(inoKey) : undefined;
      if (first) {
        p.contentSha = first.sha;
        yield { entry: { ...base, type: "hardlink", linkname: first.dest } };
        continue;
      }
      const { body, borrowed, sha } = await fileBody(e, o.hashContent === true);
      p.contentSha = sha;
      if (e.ino > 0) seenInodes.set(inoKey, { dest, sha });
      memoryCheckpoint();
      yield { entry: { ...base, size: e.size }, body, borrowed };
    }
  }
}

/** Joins a destination directory and a relative path, cleaned, without a leading "/". */
export function destPath(dir: string, rel: string): string {
  return posix.join("/", dir, rel).slice(1);
}
