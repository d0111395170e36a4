// ADD of a local archive (tar, gzip, bzip2, xz, zstd): its entries are unpacked under the destination.

import { posix } from "node:path";
import { KbError } from "../../errors.ts";
import { decompressStream, detectCompression, isTarHeader, peekStream, readTar, type TarInput } from "../../layer/index.ts";
import { fileStream } from "../../store/index.ts";
import type { EntryOptions } from "./copy-entries.ts";

/**
 * True when the file is a tar archive, plain or compressed (gzip, bzip2, xz, zstd): its first 512 bytes, once
 * decompressed, are a valid tar header. As BuildKit's isArchivePath (decompress, then archive/tar's first Next):
 * a compressed file that is not a tar (`ADD notes.gz /`), or one that fails to decompress, is copied as it is.
 */
export async function isLocalArchive(path: string): Promise<boolean> {
  const { first, rest } = await peekStream(await fileStream(path), 512);
  if (detectCompression(first) === "none") {
    await rest.cancel();
    return isTarHeader(first);
  }
  // Not a stream of that kind after all: Docker copies it as a file.
  const { first: head, rest: more } = await peekStream(decompressStream(rest), 512).catch(() => ({ first: new Uint8Array(0), rest: undefined }));
  await more?.cancel().catch(() => {});
  return isTarHeader(head);
}

/**
 * Where an archive path lands under the destination, as containerd's archive.Apply (BuildKit's ADD of a local
 * archive) puts it: the path is cleaned ("../" cannot climb above the destination), and its parent is resolved
 * through symlinks the archive made earlier, scoped to the destination (an absolute target means the
 * destination's root). The last component is not followed (a later entry replaces a symlink).
 */
export function scopedPath(rel: string, links: Map<string, string>): string {
  const parts = posix.normalize(`/${rel}`).split("/").filter(Boolean);
  const last = parts.pop();
  let dir: string[] = [];
  let hops = 0;
  const queue = [...parts];
  while (queue.length) {
    const name = queue.shift()!;
    if (name === "..") {
      dir.pop();
      continue;
    }
    if (name === ".") continue;
    const here = [...dir, name].join("/");
    const target = links.get(here);
    if (target === undefined) {
      dir.push(name);
      continue;
    }
    if (++hops > 255) throw new Error("too many levels of symbolic links");
    if (target.startsWith("/")) dir = [];
    queue.unshift(...target.split("/").filter(Boolean));
  }
  return last === undefined ? dir.join("/") : [...dir, last].join("/");
}

/**
 * Re-roots an archive's entries under `destRel` as BuildKit does (containerd archive.Apply): entries are kept
 * inside the destination (a path through one of the archive's symlinks lands where that symlink points, scoped
 * to the destination, with implied directories added); a hard link must name an entry of the archive (after
 * the same scoping), else the ADD fails naming the archive and the entry, as BuildKit's link(2) does.
 */
export async function* unpackArchiveEntries(path: string, destRel: string, o: EntryOptions): AsyncGenerator<TarInput> {
  const name = posix.basename(path);
  const tar = decompressStream(await fileStream(path));
  const links = new Map<string, string>(); // scoped path -> symlink target, for symlinks this archive made
  const kinds = new Map<string, string>(); // scoped path -> entry type, of everything emitted so far
  const mtimeOf = (m: number) => (o.mtimeClamp !== undefined && m > o.mtimeClamp ? o.mtimeClamp : m);
  for await (const { entry, body } of readTar(tar)) {
    let rel: string;
    try {
      rel = scopedPath(entry.path, links);
    } catch (e) {
      await body.cancel();
      throw new KbError("LAYER_INVALID", `Cannot ADD archive "${name}": entry "${entry.path}": ${(e as Error).message}`);
    }
    if (!rel) {
      await body.cancel();
      continue;
    }
    // Parents this entry implies that the archive has not made: created 0755 (containerd's mkparent).
    const segs = rel.split("/");
    for (let i = 1; i < segs.length; i++) {
      const parent = segs.slice(0, i).join("/");
      if (kinds.has(parent)) continue;
      kinds.set(parent, "dir");
      yield { entry: { path: posix.join(destRel, parent), type: "dir", mode: 0o755, uid: o.uid, gid: o.gid, size: 0, mtime: mtimeOf(entry.mtime) } };
    }
    const out = { ...entry, path: posix.join(destRel, rel), mtime: mtimeOf(entry.mtime) };
    if (entry.type === "hardlink") {
      let target: string;
      try {
        target = scopedPath(entry.linkname ?? "", links);
      } catch (e) {
        await body.cancel();
        throw new KbError("LAYER_INVALID", `Cannot ADD archive "${name}": hard link "${entry.path}" -> "${entry.linkname}": ${(e as Error).message}`);
      }
      const kind = kinds.get(target);
      if (kind === undefined || kind === "dir") {
        await body.cancel();
        throw new KbError("LAYER_INVALID", `Cannot ADD archive "${name}": entry "${entry.path}" is a hard link to "${entry.linkname}", which ${kind ? "is a directory" : `is not in the archive (inside the destination it would be "${target}")`}`, {
          hint: "a hard link in an archive must name a file earlier in the same archive; BuildKit fails this ADD too. Rebuild the archive without it",
        });
      }
      out.linkname = posix.join(destRel, target);
    }
    links.delete(rel);
    if (entry.type === "symlink" && entry.linkname !== undefined) links.set(rel, entry.linkname);
    kinds.set(rel, entry.type);
    if (entry.type === "file") yield { entry: out, body };
    else {
      await body.cancel();
      yield { entry: out };
    }
  }
}
