// Converting lstat results into tar entries, and reading file bodies lazily with backpressure.

import type { Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { KbError } from "../errors.ts";
import type { TarEntry } from "../layer/tar-entry.ts";
import type { IdMapper } from "./types.ts";

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const big = BigInt(rdev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { devmajor: major, devminor: minor };
}

/** The tar entry for one file system object, or undefined for sockets (not representable). */
export function statToEntry(path: string, st: Stats, linkname: string | undefined, idMap?: IdMapper): TarEntry | undefined {
  const [uid, gid] = idMap ? idMap(st.uid, st.gid) : [st.uid, st.gid];
  const base = { path, mode: st.mode & 0o7777, uid, gid, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isFile()) return { ...base, type: "file", size: st.size };
  if (st.isDirectory()) return { ...base, type: "dir" };
  if (st.isSymbolicLink()) return { ...base, type: "symlink", linkname };
  if (st.isCharacterDevice()) return { ...base, type: "char", ...devNumbers(st.rdev) };
  if (st.isBlockDevice()) return { ...base, type: "block", ...devNumbers(st.rdev) };
  if (st.isFIFO()) return { ...base, type: "fifo" };
  return undefined;
}

/** A whiteout (`.wh.NAME`) or opaque marker (`.wh..wh..opq`) entry. */
export function markerEntry(path: string, mtime: number): TarEntry {
  return { path, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtime };
}

/** Joins a relative dir and a name into a tar path (no leading slash). */
export function joinRel(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/**
 * A failure to read a path of the RUN's result as a KbError: permission problems say so (they are
 * not a corrupt blob), anything else keeps its message. Already-KbErrors pass through.
 */
export function snapshotReadError(e: unknown, file: string): unknown {
  if (e instanceof KbError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code !== "EACCES" && code !== "EPERM") return e;
  return new KbError("SNAPSHOT", `Cannot read "${file}" to snapshot the RUN: permission denied`, {
    cause: e,
    hint: "kb, outside the RUN's user namespace, may not read what the RUN left there; when it runs rootless, check that " +
      "newuidmap works for this user (kb doctor), or report this as a kb bug with the RUN that made the path",
  });
}

const CHUNK = 64 * 1024;

/** A pull-driven stream of the first `size` bytes of a file, opened on first read. */
export function fileBody(file: string, size: number): ReadableStream<Uint8Array> {
  let fh: FileHandle | undefined;
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      fh ??= await open(file, "r").catch((e) => { throw snapshotReadError(e, file); });
      const want = Math.min(CHUNK, size - pos);
      if (want <= 0) {
        await fh.close();
        controller.close();
        return;
      }
      const buf = new Uint8Array(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) {
        await fh.close();
        controller.close(); // shrank while read: the tar writer reports the size mismatch
        return;
      }
      pos += bytesRead;
      controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    },
    async cancel() {
      await fh?.close();
    },
  }, { highWaterMark: 0 });
}
