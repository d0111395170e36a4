// Compression benchmark: gzip 1/6 and zstd 3 on text-like and incompressible data (BENCH_MB, default 64),
// chunked gzip with 2 chunks in flight (zlib's async API runs on the thread pool: concatenated members),
// and the full layer pipeline on a 200+ MB file (createTarStream → compress → sha256) with peak RSS.

import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { compressStream, createTarStream, writeLayer, type Compression } from "../src/layer/index.ts";

const MB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MB ?? 64) * MB;
const CHUNK = 4 * MB;
/** Real text: kb's own sources (and node_modules' TypeScript declarations) repeated to 4 MiB. */
function textBlock(): Uint8Array {
  const out = new Uint8Array(CHUNK);
  let o = 0;
  const dirs = ["src", "node_modules/typescript/lib"];
  for (const d of dirs) {
    for (const f of readdirSync(d, { recursive: true }) as string[]) {
      if (!/\.(ts|md)$/.test(f) || o >= CHUNK) continue;
      const b = readFileSync(path.join(d, f));
      out.set(b.subarray(0, CHUNK - o), o);
      o += Math.min(b.length, CHUNK - o);
    }
  }
  for (let i = o; i < CHUNK; i++) out[i] = out[i % Math.max(o, 1)];
  return out;
}
const inputs = { text: textBlock(), random: new Uint8Array(randomBytes(CHUNK)) };

function source(block: Uint8Array, total: number): ReadableStream<Uint8Array> {
  let left = total;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(block.length, left);
      left -= n;
      c.enqueue(block.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

async function drain(s: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const b of s) n += b.length;
  return n;
}

const report = (name: string, seconds: number, out: number) =>
  console.log(`${name.padEnd(34)} ${(SIZE / MB / seconds).toFixed(1).padStart(7)} MB/s  ratio ${(out / SIZE).toFixed(3)}`);

for (const [kind, block] of process.env.BENCH_ONLY === "pipeline" ? [] : Object.entries(inputs)) {
  for (const [algorithm, level] of [["gzip", 1], ["gzip", 6], ["zstd", 3], ["zstd", 1]] as const) {
    const t0 = performance.now();
    const out = await drain(compressStream(source(block, SIZE), { algorithm, level }));
    report(`${kind} ${algorithm} -${level}`, (performance.now() - t0) / 1000, out);
  }
  const gzipAsync = promisify(zlib.gzip);
  for (const inflight of [1, 2]) {
    const t0 = performance.now();
    let out = 0;
    const pending: Promise<Buffer>[] = [];
    for (let o = 0; o < SIZE; o += CHUNK) {
      pending.push(gzipAsync(block, { level: 1 }));
      if (pending.length >= inflight) out += (await pending.shift()!).length;
    }
    for (const p of pending) out += (await p).length;
    report(`${kind} gzip -1 chunked, ${inflight} in flight`, (performance.now() - t0) / 1000, out);
  }
}

const BIG = Number(process.env.BENCH_PIPELINE_MB ?? 256) * MB;
for (const compression of ["gzip", "zstd"] as Compression[]) {
  const t0 = performance.now();
  const tar = createTarStream((async function* () {
    yield { entry: { path: "big.bin", type: "file" as const, mode: 0o644, uid: 0, gid: 0, size: BIG, mtime: 0 }, body: source(inputs.random, BIG) };
  })());
  const r = await writeLayer(tar, { compression }, async (s) => void (await drain(s)));
  const s = (performance.now() - t0) / 1000;
  console.log(`pipeline ${compression} ${BIG / MB} MB: ${(BIG / MB / s).toFixed(1)} MB/s, blob ${(r.size / MB).toFixed(0)} MB, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}
