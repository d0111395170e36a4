// Seeded, deterministic data for benchmark contexts: numbers (mulberry32) and bytes (AES-128-CTR keystream).

import { createCipheriv, createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";

/** A seeded random source: `int(n)` in [0, n), `bytes(n)` pseudo-random bytes, `text(n)` compressible ASCII. */
export interface Rng {
  int(n: number): number;
  bytes(n: number): Uint8Array;
  text(n: number): Uint8Array;
}

/** Creates a deterministic random source from a seed string. */
export function createRng(seed: string): Rng {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), key.subarray(16, 32));
  let s = key.readUInt32LE(0);
  const int = (n: number) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
  const bytes = (n: number) => new Uint8Array(cipher.update(Buffer.alloc(n)));
  const alphabet = Buffer.from("abcdefghijklmnop \n");
  const text = (n: number) => bytes(n).map((b) => alphabet[b % alphabet.length]!);
  return { int, bytes, text };
}

/** Writes `size` pseudo-random (incompressible) bytes to `file` in 1 MiB pieces; memory stays flat. */
export function writeRandomFile(file: string, size: number, seed: string): void {
  const rng = createRng(seed);
  const fd = openSync(file, "w");
  try {
    for (let left = size; left > 0; left -= 1 << 20) writeSync(fd, rng.bytes(Math.min(left, 1 << 20)));
  } finally {
    closeSync(fd);
  }
}

/** Overwrites one byte at `offset` (a one-file change to a big file without rewriting it). */
export function flipByte(file: string, offset: number, value: number): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, Uint8Array.of(value & 0xff), 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}
