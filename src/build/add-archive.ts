// ADD of a local archive (tar, gzip, bzip2, xz, zstd): its entries are unpacked under the destination.

import { open } from "node:fs/promises";
import { posix } from "node:path";
import { KbError } from "../errors.ts";
import { decompressStream, detectCompression, readTar, type TarInput } from "../layer/index.ts";
import { fileStream } from "../store/index.ts";
import type { EntryOptions } from "./copy-entries.ts";

/** True when the file starts like a compressed stream or holds a tar header (ustar magic at 257). */
export async function isLocalArchive(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const head = new Uint8Array(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const h = head.subarray(0, bytesRead);
    const c = detectCompression(h);
    if (c !== "none") return true;
    return bytesRead >= 262 && new TextDecoder().decode(h.subarray(257, 262)) === "ustar";
  } finally {
    await fh.close();
  }
}

/** Re-roots an archive's entries under `destRel`; entries that would leave it are refused. */
export async function* unpackArchiveEntries(path: string, destRel: string, o: EntryOptions): AsyncGenerator<TarInput> {
  const tar = decompressStream(await fileStream(path));
  for await (const { entry, body } of readTar(tar)) {
    const rel = posix.normalize(`/${entry.path}`).slice(1);
    if (!rel || rel.split("/").includes("..")) {
      await body.cancel();
      if (!rel) continue;
      throw new KbError("LAYER_INVALID", `Cannot ADD archive "${posix.basename(path)}": entry "${entry.path}" leaves the destination`);
    }
    const out = { ...entry, path: posix.join(destRel, rel) };
    if (out.type === "hardlink" && out.linkname) out.linkname = posix.join(destRel, posix.normalize(`/${out.linkname}`).slice(1));
    if (o.mtimeClamp !== undefined && out.mtime > o.mtimeClamp) out.mtime = o.mtimeClamp;
    if (entry.type === "file") yield { entry: out, body };
    else {
      await body.cancel();
      yield { entry: out };
    }
  }
}
