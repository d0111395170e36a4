import { describe, expect, test } from "bun:test";
import { gunzipSync, gzipSync, zstdDecompressSync } from "node:zlib";
import { sha256Digest } from "../image/digest.ts";
import { gzipMember } from "../runtime.ts";
import { MAX_MEMBER, MIN_MEMBER, memberEnd, memberLevel, parallelCompress, type MemberEntry } from "./parallel-compress.ts";

function source(data: Uint8Array, piece = 100_000): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= data.length) return c.close();
      c.enqueue(data.subarray(o, (o += piece)));
    },
  });
}
async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}
function data(n: number): Uint8Array {
  const d = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) d[i] = (x = (x * 1103515245 + 12345) >>> 0) % 7 === 0 ? x >>> 24 : i & 0x3f;
  return d;
}

describe("parallelCompress()", () => {
  for (const algorithm of ["gzip", "zstd"] as const) {
    test(`${algorithm}: several chunks come back as one valid blob, the same bytes whatever the worker count`, async () => {
      const d = data(MAX_MEMBER * 2 + 12345);
      const a = await collect(parallelCompress(source(d), algorithm, 1, 1));
      const b = await collect(parallelCompress(source(d), algorithm, 1, 2));
      const c = await collect(parallelCompress(source(d), algorithm, 1, 0));
      expect(Buffer.from(c).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      const back = algorithm === "gzip" ? gunzipSync(a) : zstdDecompressSync(a);
      expect(Buffer.from(back).equals(Buffer.from(d))).toBe(true);
    });
  }
  test("gzip: incompressible members are stored, compressible ones compressed, the same bytes on workers or not", async () => {
    const noise = new Uint8Array(MAX_MEMBER + MIN_MEMBER);
    let x = 99;
    for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1664525 + 1013904223) >>> 0) >>> 24;
    const d = new Uint8Array(Buffer.concat([noise, data(MAX_MEMBER)]));
    const here = await collect(parallelCompress(source(d), "gzip", 2, 0));
    const there = await collect(parallelCompress(source(d), "gzip", 2, 1));
    expect(Buffer.from(here).equals(Buffer.from(there))).toBe(true);
    expect(Buffer.from(gunzipSync(here)).equals(Buffer.from(d))).toBe(true);
    // the blob is the members memberEnd cuts, each at the level memberLevel picks; the first lies in the noise
    let expected = 0;
    const levels: number[] = [];
    for (let o = 0; o < d.length;) {
      const piece = d.subarray(o, o + memberEnd(d.subarray(o), d.length - o));
      levels.push(memberLevel(piece, 2, gzipMember));
      expected += gzipMember(piece, levels.at(-1)!).length;
      o += piece.length;
    }
    expect(here.length).toBe(expected);
    expect(levels[0]).toBe(0);
    expect(levels.at(-1)).toBe(2);
    expect(memberLevel(noise.subarray(0, MIN_MEMBER), 2, (b, l) => gzipSync(b, { level: l }))).toBe(0);
    expect(memberLevel(data(MIN_MEMBER), 2, (b, l) => gzipSync(b, { level: l }))).toBe(2);
  });

  test("members are cut by content: the same blob whatever the input pieces, and the same cuts again after an insertion", async () => {
    const d = data(12 << 20);
    const whole = await collect(parallelCompress(source(d, d.length), "gzip", 1, 0));
    for (const piece of [1000, 65536, 3 << 20]) expect(Buffer.from(await collect(parallelCompress(source(d, piece), "gzip", 1, 0))).equals(Buffer.from(whole))).toBe(true);
    const cuts = (b: Uint8Array) => {
      const out: number[] = [];
      for (let o = 0; o < b.length;) (o += memberEnd(b.subarray(o), b.length - o)), out.push(o);
      return out;
    };
    const a = cuts(d);
    expect(a.length).toBeGreaterThan(3);
    for (let i = 1; i < a.length; i++) expect(a[i]! - a[i - 1]!).toBeLessThanOrEqual(MAX_MEMBER);
    const inserted = new Uint8Array(Buffer.concat([d.subarray(0, 100 * 512), new Uint8Array(1536).fill(7), d.subarray(100 * 512)]));
    const b = cuts(inserted).map((c) => c - 1536);
    expect(b.slice(1)).toEqual(a.slice(1)); // after the member holding the change, every cut is where it was
  });

  test("with reuse: members an earlier blob has are taken from it, and the blob is the same bytes", async () => {
    const d = data(12 << 20);
    const plain = await collect(parallelCompress(source(d), "gzip", 2, 0));
    // the first build: nothing to reuse; it reports its members
    let first: MemberEntry[] = [];
    const none = await collect(parallelCompress(source(d), "gzip", 2, 0, { find: () => undefined, done: (m) => (first = m) }));
    expect(Buffer.from(none).equals(Buffer.from(plain))).toBe(true);
    expect(first.reduce((n, m) => n + m.length, 0)).toBe(plain.length);
    expect(first.reduce((n, m) => n + m.size, 0)).toBe(d.length);
    // members by uncompressed sha256, read back out of the first blob
    const known = new Map<string, Uint8Array>();
    let off = 0;
    for (const m of first) (known.set(m.sha, none.subarray(off, off + m.length)), (off += m.length));
    // one change in the middle, of another size: only the member holding it is compressed again
    const mid = 6 << 20;
    const changed = new Uint8Array(Buffer.concat([d.subarray(0, mid), new Uint8Array(512).fill(1), d.subarray(mid)]));
    let misses = 0;
    let recorded: MemberEntry[] = [];
    const reused = await collect(parallelCompress(source(changed), "gzip", 2, 1, {
      find: (sha) => {
        const bytes = known.get(sha);
        if (!bytes) return void misses++;
        return { bytes, csha: sha256Digest(bytes) };
      },
      done: (all) => void (recorded = all),
    }));
    expect(misses).toBe(1);
    // Every member's recorded digest is its compressed bytes' (taken ones carry the digest they were checked with).
    let at = 0;
    for (const m of recorded) (expect(m.csha === "" || m.csha === sha256Digest(reused.subarray(at, at + m.length))).toBe(true), (at += m.length));
    expect(Buffer.from(reused).equals(Buffer.from(await collect(parallelCompress(source(changed), "gzip", 2, 0))))).toBe(true);
  });

  test("an empty stream and a stream shorter than a member (no workers) give valid blobs", async () => {
    expect(gunzipSync(await collect(parallelCompress(source(new Uint8Array(0)), "gzip", 1))).length).toBe(0);
    const small = data(1000);
    expect(Buffer.from(gunzipSync(await collect(parallelCompress(source(small), "gzip", 6)))).equals(Buffer.from(small))).toBe(true);
  });
  test("an error of the input stream reaches the reader", async () => {
    const bad = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error("source broke")) });
    await expect(collect(parallelCompress(bad, "gzip", 1))).rejects.toThrow("source broke");
  });
});
