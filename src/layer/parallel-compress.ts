// Compression spread over the cores: the tar is cut into fixed 2 MiB chunks, each compressed (on a worker thread when the machine has cores to spare)
// as an independent gzip member or zstd frame, and the results are written in order. Concatenated members
// (frames) are one valid blob (RFC 1952 §2.2, RFC 8878 §3.1). Output depends only on the bytes and the level,
// never on how many workers ran. A stream shorter than one chunk is compressed on this thread.

import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import zlib from "node:zlib";
import { gzipMember, memoryCheckpoint } from "../runtime.ts";
import type { CompressionAlgorithm } from "./compress.ts";

export const CHUNK = 2 << 20;

/**
 * The level a gzip member is compressed at: 0 (stored) when three 16 KiB samples of the chunk (start, middle, end)
 * do not shrink below 98 % at level 1 — compressed or random data, where any level ends up storing but spends
 * the time looking for matches first — else `level`. Depends only on the chunk's bytes, so the output does not
 * depend on which thread compressed it. Self-contained: its source is also given to the workers.
 */
export function memberLevel(chunk: Uint8Array, level: number, gzip: (b: Uint8Array, level: number) => Uint8Array): number {
  const W = 16384;
  if (level <= 0 || chunk.length < 4 * W) return level;
  for (const at of [0, (chunk.length >> 1) - (W >> 1), chunk.length - W]) {
    if (gzip(chunk.subarray(at, at + W), 1).length < W * 0.98) return level;
  }
  return 0;
}

// Workers run eval'd source (no module graph in the compiled binary), so gzip here mirrors runtime.gzipMember.
const WORKER = `
const { parentPort } = require("node:worker_threads");
const zlib = require("node:zlib");
const B = globalThis.Bun;
const gz = (b, level) => B ? B.gzipSync(b, { level, library: "libdeflate" }) : zlib.gzipSync(b, { level });
const memberLevel = ${memberLevel.toString()};
parentPort.on("message", ({ id, buf, algorithm, level }) => {
  const input = new Uint8Array(buf);
  const out = algorithm === "gzip"
    ? gz(input, memberLevel(input, level, gz))
    : zlib.zstdCompressSync(input, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
  const copy = new Uint8Array(out);
  parentPort.postMessage({ id, out: copy }, [copy.buffer]);
});`;

function compressHere(chunk: Uint8Array, algorithm: CompressionAlgorithm, level: number): Uint8Array {
  return algorithm === "gzip"
    ? gzipMember(chunk, memberLevel(chunk, level, gzipMember))
    : zlib.zstdCompressSync(chunk, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
}

class Pool {
  #workers: Worker[] = [];
  #next = 0;
  #id = 0;
  #waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }>();
  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(WORKER, { eval: true });
      w.on("message", (m: { id: number; out: Uint8Array }) => {
        this.#waiting.get(m.id)?.resolve(m.out);
        this.#waiting.delete(m.id);
      });
      w.on("error", (e) => {
        for (const p of this.#waiting.values()) p.reject(e);
        this.#waiting.clear();
      });
      w.unref();
      this.#workers.push(w);
    }
  }
  run(chunk: Uint8Array, algorithm: CompressionAlgorithm, level: number): Promise<Uint8Array> {
    const id = this.#id++;
    const buf = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#workers[this.#next++ % this.#workers.length]!.postMessage({ id, buf: buf.buffer, algorithm, level }, [buf.buffer as ArrayBuffer]);
    });
  }
  close() {
    for (const w of this.#workers) void w.terminate();
  }
}

/**
 * Worker threads for compression on this machine: one per core beyond the two that the main thread's tar
 * and two sha256 passes keep busy, at most 4 (each worker costs ~20–45 MB of memory); 1 on a small machine.
 * With 0 workers chunks are compressed on this thread. The bytes never depend on the count.
 */
export function compressionWorkers(): number {
  const n = cpus().length;
  return n >= 4 ? Math.min(4, n - 2) : 1;
}

/**
 * Whether layers are compressed in parallel: KB_PARALLEL_COMPRESSION=1/0 decides; by default yes on a
 * machine with 4+ cores, unless the build must be byte-reproducible on any machine (the chunked format
 * differs from one zlib stream). Decision 032 has the measurements.
 */
export function useParallelCompression(env: Record<string, string | undefined>, reproducible: boolean): boolean {
  if (env.KB_PARALLEL_COMPRESSION === "1") return true;
  if (env.KB_PARALLEL_COMPRESSION === "0") return false;
  return cpus().length >= 4 && !reproducible;
}

/**
 * Compresses with every core for streams longer than one chunk; pulls input only as output is read
 * (at most 2 chunks per worker in flight).
 */
export function parallelCompress(stream: ReadableStream<Uint8Array>, algorithm: CompressionAlgorithm, level: number, workers = compressionWorkers()): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let pool: Pool | undefined;
  const inFlight: Promise<Uint8Array>[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let ended = false;
  let chunks = 0;

  // Compressed here (no workers), a chunk is done with before the next is cut: one buffer serves them all.
  let scratch: Uint8Array | undefined;
  const take = (): Uint8Array => {
    const n = Math.min(CHUNK, pendingBytes);
    const out = workers <= 0 ? (scratch ??= new Uint8Array(CHUNK)).subarray(0, n) : new Uint8Array(n);
    let off = 0;
    while (off < out.length) {
      const head = pending[0]!;
      const n = Math.min(head.length, out.length - off);
      out.set(head.subarray(0, n), off);
      off += n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    pendingBytes -= out.length;
    return out;
  };
  const submit = (chunk: Uint8Array) => {
    chunks++;
    memoryCheckpoint();
    if (workers <= 0 || (!pool && chunks === 1 && ended)) return inFlight.push(Promise.resolve(compressHere(chunk, algorithm, level)));
    pool ??= new Pool(workers);
    inFlight.push(pool.run(chunk, algorithm, level));
  };
  const fill = async () => {
    while (!ended && inFlight.length < Math.max(1, workers) + 1) {
      while (!ended && pendingBytes < CHUNK) {
        const { done, value } = await reader.read();
        if (done) ended = true;
        else if (value.length) (pending.push(value), (pendingBytes += value.length));
      }
      if (pendingBytes >= CHUNK || (ended && pendingBytes > 0)) submit(take());
      if (ended && pendingBytes > 0) continue;
    }
    while (ended && pendingBytes > 0) submit(take());
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        await fill();
        const next = inFlight.shift();
        if (!next) {
          pool?.close();
          if (chunks === 0) c.enqueue(compressHere(new Uint8Array(0), algorithm, level));
          c.close();
          return;
        }
        c.enqueue(await next);
      } catch (e) {
        pool?.close();
        throw e;
      }
    },
    async cancel(reason) {
      pool?.close();
      pending = [];
      await reader.cancel(reason);
    },
  });
}
