// COPY <<EOF sources: inline files written at DEST (a directory) or as DEST.

import { createHash } from "node:crypto";
import type { HeredocBody, SourceContent } from "../../dockerfile/index.ts";
import type { TarInput } from "../../layer/index.ts";
import { collectGarbage } from "../../runtime.ts";
import { destPath, type EntryOptions } from "./copy-entries.ts";

const CHUNK = 64 * 1024;
const GC_EVERY = 4 << 20;

/**
 * UTF-8 bytes of `text` in chunks of at most CHUNK bytes written into `buf` (or a fresh buffer per chunk when
 * `buf` is not given). Small chunks, not one encoded copy per piece: the collector frees large transient
 * buffers late, and a heredoc's peak memory counted them all.
 */
export function* utf8Chunks(text: string, buf?: Uint8Array): Generator<Uint8Array> {
  const enc = new TextEncoder();
  for (let rest = text; rest.length > 0; ) {
    const out = buf ?? new Uint8Array(Math.min(CHUNK, rest.length * 3));
    const { read, written } = enc.encodeInto(rest, out);
    rest = rest.slice(read);
    yield out.subarray(0, written);
  }
}

/** The UTF-8 bytes of a heredoc, encoded chunk by chunk as the tar writer reads (not one whole copy). */
export function utf8Stream(body: HeredocBody): ReadableStream<Uint8Array> {
  const pieces = body.each()[Symbol.iterator]();
  let chunks: Iterator<Uint8Array> | undefined;
  let sinceGc = 0;
  return new ReadableStream({
    pull(ctl) {
      for (;;) {
        const c = chunks?.next();
        if (c && !c.done) {
          // The chunks the tar writer is done with are garbage the collector would free late: a big body would
          // then cost its size again in memory. A collection every GC_EVERY bytes keeps that bounded.
          sinceGc += c.value.length;
          if (sinceGc >= GC_EVERY) {
            sinceGc = 0;
            collectGarbage();
          }
          return ctl.enqueue(c.value);
        }
        const p = pieces.next();
        if (p.done) return ctl.close();
        chunks = utf8Chunks(p.value);
      }
    },
  }, { highWaterMark: 0 });
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
    const buf = new Uint8Array(CHUNK);
    for (const piece of c.data.each()) for (const bytes of utf8Chunks(piece, buf)) h.update(bytes);
  }
  return h.digest("hex");
}
