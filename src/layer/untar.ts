// readTar: a streaming tar reader (ustar, PAX local/global headers, GNU L/K long names, V7).

import { KbError } from "../errors.ts";
import { ByteSource } from "./_byte-source.ts";
import { TarBody } from "./_tar-body.ts";
import { BLOCK, F, checksum, getNumber, getString, parsePax, signedChecksum } from "./_tar-format.ts";
import type { TarEntry, TarEntryType } from "./tar-entry.ts";

/** Limits for reading untrusted archives. */
export interface ReadTarOptions {
  /** Most members accepted. @default 10_000_000 */
  maxEntries?: number;
  /** Largest PAX or GNU long-name header accepted, in bytes. @default 1 MiB */
  maxHeaderBytes?: number;
}

/** One member read from a tar: its body must be consumed or cancelled before the next is produced. */
export interface TarMember {
  entry: TarEntry;
  body: ReadableStream<Uint8Array>;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo",
};
const MAPPED = new Set(["path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime"]);

function bad(what: string, offset: number, state: string): KbError {
  return new KbError("LAYER_INVALID", `Cannot read ${what} at offset ${offset}: ${state}`, {
    hint: "The layer is not a valid tar archive; check its source or compression",
  });
}

function isZero(b: Uint8Array): boolean {
  for (const c of b) if (c !== 0) return false;
  return true;
}

function paxInt(pax: Map<string, string>, key: string, fallback: number, err: (s: string) => KbError): number {
  const v = pax.get(key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d{1,16}$/.test(v) || !Number.isSafeInteger(n)) throw err(`PAX "${key}" is "${v.slice(0, 40)}", not an integer`);
  return n;
}

/**
 * True when `block` is a tar header Go's archive/tar would read as a first entry: 512 bytes, not all zero, with a
 * matching checksum (ustar, GNU or V7). Docker's ADD unpacks a file only when this holds after decompression.
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK || isZero(block.subarray(0, BLOCK))) return false;
  const h = block.subarray(0, BLOCK);
  const sum = getNumber(h, F.chksum);
  return sum === checksum(h) || sum === signedChecksum(h);
}

interface Parsed { entry: TarEntry; dataSize: number; what: string }

async function readEntryHeader(src: ByteSource, global: Map<string, string>, maxHeader: number): Promise<Parsed | undefined> {
  const local = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const off = src.offset;
    const h = await src.readExact(BLOCK);
    if (h.length === 0) {
      if (local.size || longName !== undefined || longLink !== undefined) throw bad("the tar header", off, "the archive ends after an extended header");
      return undefined; // end of data at an entry boundary: accepted, as Go's archive/tar does
    }
    if (h.length < BLOCK) throw bad("the tar header", off, `the archive ends inside a header (${h.length} of 512 bytes)`);
    if (isZero(h)) {
      const h2 = await src.readExact(BLOCK);
      if (h2.length !== 0 && h2.length < BLOCK) throw bad("the tar trailer", off, "the archive ends inside the trailer");
      if (h2.length !== 0 && !isZero(h2)) throw bad("the tar header", off, "a zero block is followed by data");
      await src.drain();
      return undefined;
    }
    const name = getString(h, F.name);
    const what = `tar entry "${name.slice(0, 200)}"`;
    const sum = getNumber(h, F.chksum);
    if (sum !== checksum(h) && sum !== signedChecksum(h)) throw bad(what, off, "the header checksum does not match");
    const err = (s: string) => bad(what, off, s);
    const size = getNumber(h, F.size);
    if (Number.isNaN(size)) throw err("the size field is not a number");
    const flag = String.fromCharCode(h[F.typeflag[0]]);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > maxHeader) throw err(`the extended header has ${size} bytes, more than the limit "${maxHeader}"`);
      const data = await src.readExact(Math.ceil(size / BLOCK) * BLOCK);
      if (data.length < Math.ceil(size / BLOCK) * BLOCK) throw err("the archive ends inside an extended header");
      const body = data.subarray(0, size);
      if (flag === "L" || flag === "K") {
        const end = body.indexOf(0);
        const s = new TextDecoder().decode(end < 0 ? body : body.subarray(0, end));
        if (flag === "L") longName = s;
        else longLink = s;
        continue;
      }
      const recs = parsePax(body);
      if (typeof recs === "string") throw err(`the PAX header is malformed: ${recs}`);
      const target = flag === "g" ? global : local;
      for (const [k, v] of recs) {
        if (v === "") target.delete(k);
        else target.set(k, v);
      }
      continue;
    }
    if (flag === "V") {
      if ((await src.skip(Math.ceil(size / BLOCK) * BLOCK)) < Math.ceil(size / BLOCK) * BLOCK) throw err("truncated");
      continue; // a GNU volume label is not a member
    }
    let type = TYPES[flag];
    if (!type) throw err(`the entry type "${flag.replace(/[^\x20-\x7e]/g, "?")}" is not supported`);
    const pax = new Map([...global, ...local]);
    for (const k of pax.keys()) if (k.startsWith("GNU.sparse.")) throw err("GNU sparse files are not supported");

    const magic = getString(h, F.magic);
    const prefix = magic === "ustar" && h[262] === 0 ? getString(h, F.prefix) : "";
    let path = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkname = pax.get("linkpath") ?? longLink ?? getString(h, F.linkname);
    if (type === "file" && flag !== "7" && path.endsWith("/")) type = "dir"; // old V7 directories
    if (path !== "/") path = path.replace(/\/+$/, "");
    if (path === "") throw err("the entry has an empty path");
    const dataSize = paxInt(pax, "size", size, err);
    const mode = getNumber(h, F.mode);
    const uid = paxInt(pax, "uid", getNumber(h, F.uid), err);
    const gid = paxInt(pax, "gid", getNumber(h, F.gid), err);
    let mtime = getNumber(h, F.mtime);
    const pm = pax.get("mtime");
    if (pm !== undefined) {
      if (!/^-?\d{1,15}(\.\d{1,12})?$/.test(pm)) throw err(`PAX "mtime" is "${pm.slice(0, 40)}", not a time`);
      mtime = Number(pm);
    }
    for (const [k, v] of [["mode", mode], ["uid", uid], ["gid", gid], ["mtime", mtime]] as const) {
      if (Number.isNaN(v)) throw err(`the ${k} field is not a number`);
    }
    const entry: TarEntry = { path, type, mode: mode & 0o7777, uid, gid, size: type === "file" ? dataSize : 0, mtime };
    const uname = pax.get("uname") ?? getString(h, F.uname);
    const gname = pax.get("gname") ?? getString(h, F.gname);
    if (uname) entry.uname = uname;
    if (gname) entry.gname = gname;
    if ((type === "symlink" || type === "hardlink")) {
      if (!linkname) throw err(`the ${type} has no target`);
      entry.linkname = linkname;
    }
    if (type === "char" || type === "block") {
      entry.devmajor = getNumber(h, F.devmajor);
      entry.devminor = getNumber(h, F.devminor);
      if (Number.isNaN(entry.devmajor) || Number.isNaN(entry.devminor)) throw err("the device numbers are not numbers");
    }
    for (const [k, v] of pax) {
      if (k.startsWith("SCHILY.xattr.")) (entry.xattrs ??= {})[k.slice(13)] = v;
      else if (!MAPPED.has(k)) (entry.pax ??= {})[k] = v;
    }
    return { entry, dataSize, what: `tar entry "${path.slice(0, 200)}" at offset ${off}` };
  }
}

/**
 * Reads a tar archive member by member. The next member is not produced until the previous
 * body has been consumed or cancelled; a body never touched is skipped. Malformed input
 * (bad checksum, truncation, absurd sizes, bad PAX) throws KbError "LAYER_INVALID" naming the
 * entry and byte offset. Bytes after the end-of-archive trailer are read and discarded, so a hash
 * computed upstream sees the whole stream. Leaving the loop early cancels the input.
 * @example
 * for await (const { entry, body } of readTar(stream)) console.log(entry.path, await new Response(body).arrayBuffer());
 */
export async function* readTar(stream: ReadableStream<Uint8Array>, opts: ReadTarOptions = {}): AsyncGenerator<TarMember> {
  const src = new ByteSource(stream);
  const maxEntries = opts.maxEntries ?? 10_000_000;
  const maxHeader = opts.maxHeaderBytes ?? 1 << 20;
  const global = new Map<string, string>();
  let count = 0;
  let completed = false;
  try {
    for (;;) {
      const start = src.offset;
      const parsed = await readEntryHeader(src, global, maxHeader);
      if (!parsed) break;
      if (++count > maxEntries) {
        throw bad(`tar entry "${parsed.entry.path}"`, start, `the archive has more than "${maxEntries}" entries`);
      }
      const body = new TarBody(src, parsed.dataSize, parsed.entry.type === "file", parsed.what);
      yield { entry: parsed.entry, body: body.stream };
      await body.settle();
    }
    completed = true;
  } finally {
    if (!completed) await src.cancel();
  }
}
