// Private: one pass over a tar file's headers (no bodies read) → name → {offset, size}, for random access.
// Understands ustar prefix, PAX `x` path/size records, GNU `L` long names, links to earlier members; skips `g`.

import { open } from "node:fs/promises";
import { posix } from "node:path";
import { KbError } from "../errors.ts";

/** Where one regular file's bytes are in the archive. */
export interface TarSpan {
  offset: number;
  size: number;
}

const BLOCK = 512;
const dec = new TextDecoder();

function str(h: Uint8Array, off: number, len: number): string {
  const end = h.subarray(off, off + len).indexOf(0);
  return dec.decode(h.subarray(off, end < 0 ? off + len : off + end));
}

function octal(h: Uint8Array, off: number, len: number, what: string): number {
  if (h[off] & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + h[i];
    return n;
  }
  const s = str(h, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new SyntaxError(`${what} field "${s.slice(0, 12)}" is not octal`);
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === octal(h, 148, 8, "checksum");
}

function paxRecords(b: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < b.length && b[i] !== 0) {
    const sp = b.indexOf(32, i);
    const len = Number(dec.decode(b.subarray(i, sp)));
    if (sp < 0 || !Number.isSafeInteger(len) || len <= sp - i || i + len > b.length) throw new SyntaxError("bad PAX record");
    const rec = dec.decode(b.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Normalises a member name ("./a/b" → "a/b") and refuses absolute names and ".." components. */
export function safeMemberName(name: string, file: string): string {
  const n = name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (n.startsWith("/") || n.split("/").includes("..") || n.includes("\0")) {
    throw new KbError("MANIFEST_INVALID", `Cannot read archive "${file}": member "${name.slice(0, 200)}" points outside the archive`, {
      hint: "the archive is malicious or corrupt; do not use it",
    });
  }
  return n;
}

/** Links may come before their targets (tar sorts by name): alias them after the scan, chains up to 8 deep. */
function resolveLinks(out: Map<string, TarSpan>, links: Array<[string, string]>): Map<string, TarSpan> {
  for (let round = 0; round < 8; round++) {
    for (const [name, target] of links) {
      const span = out.get(target);
      if (span && !out.has(name)) out.set(name, span);
    }
  }
  return out;
}

/**
 * Indexes the regular files of the tar at `file`. Throws KbError("MANIFEST_INVALID") on a malformed header,
 * a member that runs past the end, or an unsafe name.
 */
export async function indexTar(file: string, limit = 100_000): Promise<Map<string, TarSpan>> {
  const fh = await open(file, "r");
  const out = new Map<string, TarSpan>();
  try {
    const fileSize = (await fh.stat()).size;
    const h = new Uint8Array(BLOCK);
    let pos = 0;
    let pending: Map<string, string> | undefined;
    let longName: string | undefined;
    const links: Array<[string, string]> = [];
    const readBody = async (size: number) => {
      if (size > 1 << 20) throw new SyntaxError("extended header larger than 1 MiB");
      const b = new Uint8Array(size);
      await fh.read(b, 0, size, pos + BLOCK);
      return b;
    };
    for (let n = 0; n < limit; n++) {
      if (pos + BLOCK > fileSize) throw new SyntaxError("the archive ends without its end blocks");
      await fh.read(h, 0, BLOCK, pos);
      if (h.every((b) => b === 0)) return resolveLinks(out, links);
      if (!checksumOk(h)) throw new SyntaxError(`header at byte ${pos} has a bad checksum`);
      const type = String.fromCharCode(h[156] || 48);
      let size = octal(h, 124, 12, "size");
      if (pending?.has("size")) size = Number(pending.get("size"));
      if (!Number.isSafeInteger(size) || size < 0 || pos + BLOCK + size > fileSize) throw new SyntaxError(`member at byte ${pos} runs past the end`);
      const next = pos + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
      if (type === "x") pending = paxRecords(await readBody(size));
      else if (type === "L") longName = str(await readBody(size), 0, size);
      else if (type === "g") { /* global header: nothing kb needs */ }
      else {
        const prefix = str(h, 345, 155);
        const raw = pending?.get("path") ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
        const name = safeMemberName(raw, file);
        if (type === "0" || type === "7") out.set(name, { offset: pos + BLOCK, size });
        else if (type === "2" || type === "1") {
          // Symlinks (skopeo, classic docker save share layers this way) and hardlinks alias an earlier member.
          const link = pending?.get("linkpath") ?? str(h, 157, 100);
          const target = type === "2" ? posix.normalize(posix.join(posix.dirname(name), link)) : link;
          links.push([name, safeMemberName(target, file)]);
        }
        pending = undefined;
        longName = undefined;
      }
      pos = next;
    }
    throw new SyntaxError(`more than ${limit} members`);
  } catch (e) {
    if (e instanceof KbError) throw e;
    throw new KbError("MANIFEST_INVALID", `Cannot read archive "${file}": ${(e as Error).message}`, { hint: "the file is not a tar archive or is truncated", cause: e });
  } finally {
    await fh.close();
  }
}
