// createTarStream: a pull-driven, deterministic PAX/ustar tar writer over web streams.

import { KbError } from "../errors.ts";
import type { TarEntry } from "./tar-entry.ts";
import {
  BLOCK, F, MAX_OCTAL_11, MAX_OCTAL_7, byteString, encodePax, isAscii, putBytes, putChecksum, putOctal, utf8,
} from "./_tar-format.ts";

/** One member to write: a file's body is a stream or bytes of exactly `entry.size` bytes. */
export interface TarInput {
  entry: TarEntry;
  body?: ReadableStream<Uint8Array> | Uint8Array;
  /**
   * The body's bytes are lent: valid only until the writer asks for the next entry (a producer reads every small
   * file into one buffer). The writer copies them into its own chunk before that.
   */
  borrowed?: boolean;
}

const TYPEFLAG: Record<TarEntry["type"], string> = {
  file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6",
};

function invalid(entry: TarEntry, state: string, hint?: string): KbError {
  return new KbError("LAYER_INVALID", `Cannot write tar entry "${entry.path}": ${state}`, { hint });
}

function checkInt(entry: TarEntry, name: string, n: number | undefined): void {
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) throw invalid(entry, `${name} "${n}" is not a non-negative integer`);
}

/** Splits an ASCII path into ustar prefix + name, or returns undefined when it does not fit. */
function splitUstar(p: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  if (p.length <= 100) return [new Uint8Array(0), p];
  for (let i = Math.min(p.length - 1, 155); i > 0; i--) {
    if (p[i] === 47 && p.length - i - 1 <= 100 && p.length - i - 1 > 0) return [p.subarray(0, i), p.subarray(i + 1)];
  }
  return undefined;
}

/**
 * Encodes the header block(s) of one entry: a PAX `x` header when a field does not fit ustar
 * (long or non-ASCII names and links, sizes ≥ 8 GiB, ids > 2097151, fractional mtime, xattrs,
 * extra `pax` records), then the ustar header. Output depends only on `entry`.
 */
export function encodeTarHeader(entry: TarEntry): Uint8Array {
  const { type } = entry;
  if (!(type in TYPEFLAG)) throw invalid(entry, `type "${type}" is unknown`);
  if (!entry.path || entry.path.includes("\0")) throw invalid(entry, "the path is empty or contains NUL");
  for (const k of ["mode", "uid", "gid", "size", "devmajor", "devminor"] as const) checkInt(entry, k, entry[k]);
  if (!Number.isFinite(entry.mtime)) throw invalid(entry, `mtime "${entry.mtime}" is not a number`);
  const size = type === "file" ? entry.size : 0;
  if (type !== "file" && entry.size !== 0) throw invalid(entry, `a ${type} must have size 0, got "${entry.size}"`);
  if ((type === "symlink" || type === "hardlink") && !entry.linkname) throw invalid(entry, "a link needs a linkname");

  const pax: [string, Uint8Array][] = [];
  const path = utf8(type === "dir" && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path);
  const split = isAscii(path) ? splitUstar(path) : undefined;
  if (!split) pax.push(["path", path]);
  const link = utf8(entry.linkname ?? "");
  const linkFits = link.length <= 100 && isAscii(link);
  if (!linkFits) pax.push(["linkpath", link]);
  if (size > MAX_OCTAL_11) pax.push(["size", utf8(String(size))]);
  if (entry.uid > MAX_OCTAL_7) pax.push(["uid", utf8(String(entry.uid))]);
  if (entry.gid > MAX_OCTAL_7) pax.push(["gid", utf8(String(entry.gid))]);
  const uname = utf8(entry.uname ?? "");
  const gname = utf8(entry.gname ?? "");
  if (uname.length > 32 || !isAscii(uname)) pax.push(["uname", uname]);
  if (gname.length > 32 || !isAscii(gname)) pax.push(["gname", gname]);
  const mtimeFits = Number.isInteger(entry.mtime) && entry.mtime >= 0 && entry.mtime <= MAX_OCTAL_11;
  if (!mtimeFits) pax.push(["mtime", utf8(formatTime(entry.mtime))]);
  for (const k of Object.keys(entry.xattrs ?? {}).sort()) pax.push([`SCHILY.xattr.${k}`, byteString(entry.xattrs![k])]);
  for (const k of Object.keys(entry.pax ?? {}).sort()) pax.push([k, utf8(entry.pax![k])]);
  if ((entry.devmajor ?? 0) > MAX_OCTAL_7 || (entry.devminor ?? 0) > MAX_OCTAL_7) {
    throw invalid(entry, `device numbers "${entry.devmajor},${entry.devminor}" do not fit a tar header`);
  }

  const h = new Uint8Array(BLOCK);
  if (split) {
    putBytes(h, F.prefix, split[0]);
    putBytes(h, F.name, split[1]);
  } else {
    putBytes(h, F.name, asciiFallback(path, 100));
  }
  putOctal(h, F.mode, entry.mode & 0o7777);
  putOctal(h, F.uid, entry.uid > MAX_OCTAL_7 ? 0 : entry.uid);
  putOctal(h, F.gid, entry.gid > MAX_OCTAL_7 ? 0 : entry.gid);
  putOctal(h, F.size, size > MAX_OCTAL_11 ? 0 : size);
  putOctal(h, F.mtime, mtimeFits ? entry.mtime : Math.min(Math.max(Math.floor(entry.mtime), 0), MAX_OCTAL_11));
  h[F.typeflag[0]] = TYPEFLAG[type].charCodeAt(0);
  if (linkFits) putBytes(h, F.linkname, link);
  else putBytes(h, F.linkname, asciiFallback(link, 100));
  putBytes(h, F.magic, utf8("ustar\0"));
  putBytes(h, F.version, utf8("00"));
  if (uname.length <= 32 && isAscii(uname)) putBytes(h, F.uname, uname);
  if (gname.length <= 32 && isAscii(gname)) putBytes(h, F.gname, gname);
  if (type === "char" || type === "block") {
    putOctal(h, F.devmajor, entry.devmajor ?? 0);
    putOctal(h, F.devminor, entry.devminor ?? 0);
  }
  putChecksum(h);
  if (pax.length === 0) return h;

  const records = encodePax(pax);
  const ph = new Uint8Array(BLOCK);
  const base = entry.path.replace(/\/+$/, "").split("/").pop() || "entry";
  putBytes(ph, F.name, asciiFallback(utf8(`PaxHeaders.0/${base}`), 100));
  putOctal(ph, F.mode, 0o644);
  putOctal(ph, F.uid, 0);
  putOctal(ph, F.gid, 0);
  putOctal(ph, F.size, records.length);
  putOctal(ph, F.mtime, mtimeFits ? entry.mtime : 0);
  ph[F.typeflag[0]] = 120; // 'x'
  putBytes(ph, F.magic, utf8("ustar\0"));
  putBytes(ph, F.version, utf8("00"));
  putChecksum(ph);
  const out = new Uint8Array(BLOCK + padded(records.length) + BLOCK);
  out.set(ph, 0);
  out.set(records, BLOCK);
  out.set(h, BLOCK + padded(records.length));
  return out;
}

/** A readable stand-in for fields carried by PAX: ASCII bytes only, cut to the width. */
function asciiFallback(b: Uint8Array, width: number): Uint8Array {
  return b.map((c) => (c > 127 ? 95 : c)).subarray(0, width);
}

function formatTime(t: number): string {
  const s = String(t);
  if (!/e/i.test(s)) return s;
  return t.toFixed(9).replace(/\.?0+$/, "");
}

/** Bytes rounded up to whole blocks. */
export function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** Bodies up to this size are sent in one chunk with their header. */
const SMALL_BODY = 64 * 1024;
/** Headers and small bodies are gathered into chunks of this size: one pull per chunk, not per entry. */
const BATCH = 512 * 1024;

async function* generate(entries: AsyncIterable<TarInput>): AsyncGenerator<Uint8Array> {
  // Many small files (a source tree) made one chunk each, and each chunk crossed the whole stream pipeline
  // (tar → sha256 → compression → sha256 → store) on its own; gathered, 5,000 files are ~100 chunks.
  let batch = new Uint8Array(BATCH);
  let used = 0;
  const flush = (): Uint8Array => {
    const out = batch.subarray(0, used);
    batch = new Uint8Array(BATCH);
    used = 0;
    return out;
  };
  for await (const { entry, body, borrowed } of entries) {
    const header = encodeTarHeader(entry);
    const size = entry.type === "file" ? entry.size : 0;
    const small = body === undefined ? size === 0 : body instanceof Uint8Array && body.length === size && size <= SMALL_BODY;
    if (small) {
      const need = header.length + padded(size);
      if (used + need > BATCH) yield flush();
      batch.set(header, used);
      if (body instanceof Uint8Array) batch.set(body, used + header.length);
      used += need; // the padding is already zero: a fresh batch is zero-filled and every byte is written once
      continue;
    }
    if (used > 0) yield flush();
    yield header;
    if (body === undefined) {
      if (size !== 0) throw invalid(entry, `the body is missing but size is "${size}"`);
      continue;
    }
    if (body instanceof Uint8Array) {
      if (body.length !== size) throw invalid(entry, `the body has ${body.length} bytes but size is "${size}"`);
      if (size > 0) yield borrowed ? body.slice() : body;
    } else {
      const reader = body.getReader();
      let n = 0;
      let finished = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          n += value.length;
          if (n > size) throw invalid(entry, `the body has more than the declared size "${size}" bytes`);
          if (value.length > 0) yield value;
        }
        finished = true;
      } finally {
        // On error or when the consumer cancels the tar, the body's producer is told to stop.
        if (!finished) await reader.cancel().catch(() => {});
        reader.releaseLock();
      }
      if (n !== size) throw invalid(entry, `the body has ${n} bytes but size is "${size}"`);
    }
    const pad = padded(size) - size;
    if (pad > 0) yield new Uint8Array(pad);
  }
  if (used + 2 * BLOCK > BATCH) yield flush();
  used += 2 * BLOCK; // the end-of-archive blocks, zero
  yield batch.subarray(0, used);
}

/**
 * Writes a tar archive from entries, pulling the next entry only when the consumer reads.
 * Each body must hold exactly `entry.size` bytes, else the stream errors with LAYER_INVALID.
 * Output is deterministic: nothing comes from the clock, the host or the process.
 * @example
 * const tar = createTarStream((async function* () {
 *   yield { entry: { path: "hello.txt", type: "file", mode: 0o644, uid: 0, gid: 0, size: 2, mtime: 0 }, body: new TextEncoder().encode("hi") };
 * })());
 */
export function createTarStream(entries: AsyncIterable<TarInput>): ReadableStream<Uint8Array> {
  const it = generate(entries);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel(reason) {
      void reason;
      await it.return(undefined).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
