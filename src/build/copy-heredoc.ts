// COPY <<EOF sources: inline files written at DEST (a directory) or as DEST.

import { createHash } from "node:crypto";
import type { HeredocBody, SourceContent } from "../dockerfile/index.ts";
import type { TarInput } from "../layer/index.ts";
import { destPath, type EntryOptions } from "./copy-entries.ts";

/** The UTF-8 bytes of a heredoc, encoded piece by piece as the tar writer reads (not one whole copy). */
export function utf8Stream(body: HeredocBody): ReadableStream<Uint8Array> {
  const it = body.pieces[Symbol.iterator]();
  const enc = new TextEncoder();
  return new ReadableStream({
    pull(ctl) {
      const n = it.next();
      if (n.done) ctl.close();
      else ctl.enqueue(enc.encode(n.value));
    },
  });
}

/** Tar inputs for heredoc sources (mode 0644 before --chmod, as BuildKit writes them). */
export async function* heredocSources(contents: SourceContent[], destRel: string, destIsDir: boolean, o: EntryOptions): AsyncGenerator<TarInput> {
  for (const c of contents) {
    const body = utf8Stream(c.data);
    const mode = o.chmod ? o.chmod(0o644, false) & 0o7777 : 0o644;
    const path = destIsDir ? destPath(destRel, c.path) : destRel;
    yield { entry: { path, type: "file", mode, uid: o.uid, gid: o.gid, size: c.data.byteLength(), mtime: o.mtimeClamp ?? Math.floor(Date.now() / 1000) }, body };
  }
}

/** The cache-key part of heredoc sources: a digest fed piece by piece (a joined copy would double the memory). */
export function heredocDigest(contents: SourceContent[]): string {
  if (contents.length === 0) return "";
  const h = createHash("sha256");
  for (const c of contents) {
    h.update(`${Buffer.byteLength(c.path)}:${c.path}\0${c.data.byteLength()}:`);
    for (const piece of c.data.pieces) h.update(piece);
  }
  return h.digest("hex");
}
