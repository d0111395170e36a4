// Compression spread over the cores: the tar is cut into members of 1–4 MiB at content-defined places, each
// compressed (on a worker thread when the machine has cores to spare) as an independent gzip member or zstd frame,
// and the results are written in order. Concatenated members
// (frames) are one valid blob (RFC 1952 §2.2, RFC 8878 §3.1). Output depends only on the bytes and the level,
// never on how many workers ran. A stream of one member is compressed on this thread.

import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import zlib from "node:zlib";
import { sha256Digest } from "../image/digest.ts";
import { gzipMember, memoryCheckpoint } from "../runtime.ts";
import type { CompressionAlgorithm } from "./compress.ts";

/** Members are 1–4 MiB of the input, about 2 MiB on average (cut where memberEnd says). */
export const MIN_MEMBER = 1 << 20;
export const MAX_MEMBER = 4 << 20;

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

/** One member compressed on this thread; `gzipLevel` is memberLevel's answer when the caller already has it. */
function compressHere(chunk: Uint8Array, algorithm: CompressionAlgorithm, level: number, gzipLevel?: number): Uint8Array {
  return algorithm === "gzip"
    ? gzipMember(chunk, gzipLevel ?? memberLevel(chunk, level, gzipMember))
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
 * One member of a compressed stream: its uncompressed bytes' digest and size, its compressed length and digest
 * (both "" for a stored gzip member, which is never looked up).
 */
export interface MemberEntry { sha: string; size: number; length: number; csha: string }

/**
 * Members a stream may take from an earlier blob instead of compressing again (docs/decisions/134): `find` gives
 * the compressed bytes of a member with these uncompressed bytes (same algorithm, level and library) or undefined,
 * synchronously (the member is a view of a buffer that is reused next); `done` receives every member of this
 * stream, in order, when it ends.
 */
export interface MemberReuse {
  /** The compressed bytes and their digest (checked against them when read back), or undefined. */
  find(sha: string, size: number): { bytes: Uint8Array; csha: string } | undefined;
  done(members: MemberEntry[]): void;
}

/**
 * Where the next member ends in `buf[0, len)`: the first 512-byte boundary at or after MIN whose block hashes to
 * 0 mod 2048 (about 1 MiB after MIN), else at MAX or the end. The cut depends only on the bytes there, never on
 * how the input was chunked or on anything before the member: after a file changes size in a tar (always by
 * whole blocks), the cuts fall at the same places again and the later members are the same bytes.
 */
export function memberEnd(buf: Uint8Array, len: number): number {
  const end = Math.min(len, MAX_MEMBER);
  for (let o = MIN_MEMBER; o + 512 <= end; o += 512) {
    let h = 0x811c9dc5;
    for (let i = o; i < o + 32; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    if ((h & 2047) === 0) return o;
  }
  return end;
}

/**
 * Compresses in members cut where memberEnd says, on worker threads when `workers` > 0; pulls input only as output
 * is read (at most workers + 1 members in flight). With `reuse`, a member already compressed in an earlier blob is
 * taken from there: the output is the same bytes either way.
 */
export function parallelCompress(stream: ReadableStream<Uint8Array>, algorithm: CompressionAlgorithm, level: number, workers = compressionWorkers(), reuse?: MemberReuse): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let pool: Pool | undefined;
  const inFlight: Promise<Uint8Array>[] = [];
  const members: MemberEntry[] = [];
  let buf = new Uint8Array(MAX_MEMBER);
  let len = 0;
  let carry: Uint8Array | undefined;
  let ended = false;
  let chunks = 0;

  const read = async () => {
    while (len < MAX_MEMBER && !ended) {
      let v = carry;
      carry = undefined;
      if (!v) {
        const r = await reader.read();
        if (r.done) {
          ended = true;
          break;
        }
        v = r.value;
      }
      const n = Math.min(v.length, MAX_MEMBER - len);
      buf.set(v.subarray(0, n), len);
      len += n;
      if (n < v.length) carry = v.subarray(n);
    }
  };
  // A stream of one member is compressed here: no worker is started for it. A member compressed here is a view
  // of buf, used before buf moves on; a worker gets its own copy.
  const compress = (view: Uint8Array, only: boolean, gzipLevel?: number): Promise<Uint8Array> => {
    if (workers <= 0 || (!pool && only)) return Promise.resolve(compressHere(view, algorithm, level, gzipLevel));
    pool ??= new Pool(workers);
    return pool.run(view.slice(), algorithm, level);
  };
  const submit = () => {
    const cut = memberEnd(buf, len);
    chunks++;
    const only = chunks === 1 && ended && cut === len;
    memoryCheckpoint();
    const view = buf.subarray(0, cut);
    const gzipLevel = reuse && algorithm === "gzip" ? memberLevel(view, level, gzipMember) : undefined;
    let out: Promise<Uint8Array>;
    if (!reuse) out = compress(view, only);
    else if (gzipLevel === 0) {
      // Stored (incompressible): storing again is cheaper than reading it back, so it is never looked up.
      const stored = gzipMember(view, 0);
      members.push({ sha: "", size: cut, length: stored.length, csha: "" });
      out = Promise.resolve(stored);
    } else {
      // Looked up at once (a read of the last blob), while view still holds this member's bytes.
      const entry: MemberEntry = { sha: sha256Digest(view), size: cut, length: 0, csha: "" };
      members.push(entry);
      // A member taken from the last blob was hashed when it was read back: its digest is not computed again.
      const found = reuse.find(entry.sha, entry.size);
      out = found
        ? Promise.resolve(((entry.length = found.bytes.length), (entry.csha = found.csha), found.bytes))
        : compress(view, only, gzipLevel).then((b) => {
          entry.length = b.length;
          entry.csha = sha256Digest(b);
          return b;
        });
    }
    inFlight.push(out);
    buf.copyWithin(0, cut, len);
    len -= cut;
  };
  const fill = async () => {
    while (inFlight.length < Math.max(1, workers) + 1) {
      await read();
      if (len === 0) return;
      submit();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        await fill();
        const next = inFlight.shift();
        if (!next) {
          pool?.close();
          if (chunks === 0) c.enqueue(compressHere(new Uint8Array(0), algorithm, level));
          reuse?.done(members);
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
      buf = new Uint8Array(0);
      len = 0;
      await reader.cancel(reason);
    },
  });
}
