// Private: the ustar header block layout, numeric fields, checksums and PAX records (POSIX.1-2001 pax format).
// https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_03

export const BLOCK = 512;
/** Largest value an 11-digit octal field holds (size, mtime): 8 GiB - 1. */
export const MAX_OCTAL_11 = 0o77777777777;
/** Largest value a 7-digit octal field holds (uid, gid, devmajor, devminor). */
export const MAX_OCTAL_7 = 0o7777777;

/** Offsets and widths of the ustar header fields. */
export const F = {
  name: [0, 100], mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12],
  chksum: [148, 8], typeflag: [156, 1], linkname: [157, 100], magic: [257, 6], version: [263, 2],
  uname: [265, 32], gname: [297, 32], devmajor: [329, 8], devminor: [337, 8], prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });

export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

/** Bytes of a byte string (latin1) or, when a char is above 255, its UTF-8. */
export function byteString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return enc.encode(s);
    out[i] = c;
  }
  return out;
}

export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

export function isAscii(b: Uint8Array): boolean {
  for (const c of b) if (c > 127) return false;
  return true;
}

/** Writes bytes into a field, truncating nothing: callers check the width first. */
export function putBytes(h: Uint8Array, field: readonly [number, number], b: Uint8Array): void {
  h.set(b.subarray(0, field[1]), field[0]);
}

/** Writes a number as zero-padded octal followed by NUL. */
export function putOctal(h: Uint8Array, field: readonly [number, number], n: number): void {
  const s = Math.trunc(n).toString(8).padStart(field[1] - 1, "0");
  putBytes(h, field, utf8(s));
}

export function checksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum;
}

/** The old signed-char checksum some ancient writers used. */
export function signedChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] << 24) >> 24;
  return sum;
}

export function putChecksum(h: Uint8Array): void {
  const s = checksum(h).toString(8).padStart(6, "0");
  h.set(utf8(s), 148);
  h[154] = 0;
  h[155] = 32;
}

/** Reads a NUL-terminated text field as UTF-8. */
export function getString(h: Uint8Array, field: readonly [number, number]): string {
  const b = h.subarray(field[0], field[0] + field[1]);
  const end = b.indexOf(0);
  return dec.decode(end < 0 ? b : b.subarray(0, end));
}

/**
 * Reads an octal field (NUL/space padded) or a GNU base-256 field (high bit set).
 * Returns NaN when the field holds anything else or a value beyond 2^53.
 */
export function getNumber(h: Uint8Array, field: readonly [number, number]): number {
  const b = h.subarray(field[0], field[0] + field[1]);
  if (b[0] & 0x80) {
    if (b[0] === 0xff) return NaN; // negative base-256: not a valid size, id or time for kb
    let n = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return Number.isSafeInteger(n) ? n : NaN;
  }
  let i = 0;
  while (i < b.length && (b[i] === 32 || b[i] === 0)) i++;
  let n = 0;
  let digits = 0;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === 0 || c === 32) break;
    if (c < 48 || c > 55) return NaN;
    n = n * 8 + (c - 48);
    digits++;
  }
  for (; i < b.length; i++) if (b[i] !== 0 && b[i] !== 32) return NaN;
  return digits === 0 ? 0 : Number.isSafeInteger(n) ? n : NaN;
}

/** Encodes PAX records "%d %s=%s\n", where the length counts the whole record. */
export function encodePax(records: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [key, value] of records) {
    const kv = utf8(key);
    const base = kv.length + value.length + 3; // space, '=', '\n'
    let len = base + String(base).length;
    if (String(len).length !== String(base).length) len = base + String(len).length;
    const rec = new Uint8Array(len);
    let o = 0;
    const head = utf8(`${len} `);
    rec.set(head, o);
    o += head.length;
    rec.set(kv, o);
    o += kv.length;
    rec[o++] = 61;
    rec.set(value, o);
    o += value.length;
    rec[o] = 10;
    parts.push(rec);
    total += len;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Parses PAX records into a map (later records win). Values are UTF-8, except `SCHILY.xattr.*`
 * which stay byte strings. Returns a reason string on malformed input.
 */
export function parsePax(b: Uint8Array): Map<string, string> | string {
  const out = new Map<string, string>();
  let o = 0;
  while (o < b.length) {
    if (b[o] === 0) break; // some writers pad the record block with NULs
    const sp = b.indexOf(32, o);
    if (sp < 0 || sp - o > 20 || sp === o) return `record at byte ${o} has no length`;
    let len = 0;
    for (let i = o; i < sp; i++) {
      if (b[i] < 48 || b[i] > 57) return `record at byte ${o} has a bad length`;
      len = len * 10 + (b[i] - 48);
    }
    if (len <= sp - o + 1 || o + len > b.length) return `record at byte ${o} has length ${len} beyond the header`;
    const rec = b.subarray(sp + 1, o + len);
    if (rec[rec.length - 1] !== 10) return `record at byte ${o} does not end with a newline`;
    const eq = rec.indexOf(61);
    if (eq <= 0) return `record at byte ${o} has no key`;
    const key = dec.decode(rec.subarray(0, eq));
    const raw = rec.subarray(eq + 1, rec.length - 1);
    out.set(key, key.startsWith("SCHILY.xattr.") ? latin1(raw) : dec.decode(raw));
    o += len;
  }
  return out;
}
