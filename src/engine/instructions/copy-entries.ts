// Turning copy sources into layer entries: destination paths, owners, modes, mtimes, hardlinks.

import { memoryCheckpoint } from "../../runtime.ts";
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import type { ContextEntry } from "../../context/walk.ts";
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
}

const SMALL_FILE = 256 * 1024;

/** A small file's bytes; exactly `size` of them (a file that changed since the walk fails the tar's size check). */
function readSmall(path: string, size: number): Uint8Array {
  const b = readFileSync(path);
  return b.length === size ? b : b.subarray(0, Math.min(b.length, size));
}

const TYPE: Record<string, TarEntry["type"] | undefined> = { file: "file", dir: "dir", symlink: "symlink" };

/** Converts placed entries into tar inputs, streaming file bodies; files seen twice by inode (in one source) become hardlinks. */
export async function* toTarInputs(placed: AsyncIterable<Placed>, o: EntryOptions): AsyncGenerator<TarInput> {
  const seenInodes = new Map<string, string>();
  for await (const { entry: e, dest, source, madeForCopy } of placed) {
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
        yield { entry: { ...base, type: "hardlink", linkname: first } };
        continue;
      }
      if (e.ino > 0) seenInodes.set(inoKey, dest);
      // Small files in one read (fewer awaits per file); bigger ones streamed. Either way one file at a time.
      const body = e.size <= SMALL_FILE ? readSmall(e.absPath, e.size) : await fileStream(e.absPath, { length: e.size });
      memoryCheckpoint();
      yield { entry: { ...base, size: e.size }, body };
    }
  }
}

/** Joins a destination directory and a relative path, cleaned, without a leading "/". */
export function destPath(dir: string, rel: string): string {
  return posix.join("/", dir, rel).slice(1);
}
