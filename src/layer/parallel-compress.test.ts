import { describe, expect, test } from "bun:test";
import { gunzipSync, gzipSync, zstdDecompressSync } from "node:zlib";
import { gzipMember } from "../runtime.ts";
import { CHUNK, memberLevel, parallelCompress } from "./parallel-compress.ts";

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
      const d = data(CHUNK * 2 + 12345);
      const a = await collect(parallelCompress(source(d), algorithm, 1, 1));
      const b = await collect(parallelCompress(source(d), algorithm, 1, 2));
      const c = await collect(parallelCompress(source(d), algorithm, 1, 0));
      expect(Buffer.from(c).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      const back = algorithm === "gzip" ? gunzipSync(a) : zstdDecompressSync(a);
      expect(Buffer.from(back).equals(Buffer.from(d))).toBe(true);
    });
  }
  test("gzip: incompressible chunks are stored, compressible ones compressed, the same bytes on workers or not", async () => {
    const noise = new Uint8Array(CHUNK);
    let x = 99;
    for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1664525 + 1013904223) >>> 0) >>> 24;
    const d = new Uint8Array(Buffer.concat([noise, data(CHUNK)]));
    const here = await collect(parallelCompress(source(d), "gzip", 2, 0));
    const there = await collect(parallelCompress(source(d), "gzip", 2, 1));
    expect(Buffer.from(here).equals(Buffer.from(there))).toBe(true);
    expect(Buffer.from(gunzipSync(here)).equals(Buffer.from(d))).toBe(true);
    // first member stored (level 0), second at the level asked for
    expect(here.length).toBe(gzipMember(noise, 0).length + gzipMember(data(CHUNK), 2).length);
    expect(memberLevel(noise, 2, (b, l) => gzipSync(b, { level: l }))).toBe(0);
    expect(memberLevel(data(CHUNK), 2, (b, l) => gzipSync(b, { level: l }))).toBe(2);
  });

  test("an empty stream and a stream shorter than a chunk (no workers) give valid blobs", async () => {
    expect(gunzipSync(await collect(parallelCompress(source(new Uint8Array(0)), "gzip", 1))).length).toBe(0);
    const small = data(1000);
    expect(Buffer.from(gunzipSync(await collect(parallelCompress(source(small), "gzip", 6)))).equals(Buffer.from(small))).toBe(true);
  });
  test("an error of the input stream reaches the reader", async () => {
    const bad = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error("source broke")) });
    await expect(collect(parallelCompress(bad, "gzip", 1))).rejects.toThrow("source broke");
  });
});
