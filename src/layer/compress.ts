// Layer compression: gzip as libdeflate members (runtime.gzipMember), zstd through node:zlib, bzip2/xz through their programs, detection by magic bytes.

import { spawn } from "node:child_process";
import zlib from "node:zlib";
import { KbError } from "../errors.ts";
import { MediaType } from "../image/types.ts";
import { nativeGunzip } from "../runtime.ts";
import { throughNode } from "./_node-stream.ts";
import { parallelCompress, type MemberReuse } from "./parallel-compress.ts";

/** Algorithms kb compresses layers with (--compression); the one place this list is written. */
export const COMPRESSION_ALGORITHMS = ["gzip", "zstd"] as const;
export type CompressionAlgorithm = (typeof COMPRESSION_ALGORITHMS)[number];
/** How kb writes a layer: compressed with an algorithm, or plain tar ("none"). */
export type Compression = CompressionAlgorithm | "none";
/** Formats kb reads layers in. */
export type DetectedCompression = Compression | "bzip2" | "xz";

export interface CompressOptions {
  algorithm: Compression;
  /** Spread the work over the cores in 4 MiB members/frames (parallel-compress.ts). @default false */
  parallel?: boolean;
  /** gzip 0–9 (libdeflate members, 0 stores), zstd 1–19. @default gzip 2, zstd 3 (docs/decisions/131-libdeflate-gzip-level.md) */
  level?: number;
  /** Members an earlier blob of the same algorithm and level may give (gzip, or zstd with `parallel`). */
  reuse?: MemberReuse;
}

/** Default levels: gzip 2 = images no larger than BuildKit's (Go gzip 6), docs/decisions/131-libdeflate-gzip-level.md. */
export const DEFAULT_LEVEL: Record<CompressionAlgorithm, number> = { gzip: 2, zstd: 3 };

/** The levels --compression-level accepts per algorithm (gzip 0 stores; zstd's negative levels are its fast ones). */
export const LEVEL_RANGE: Record<CompressionAlgorithm, readonly [number, number]> = { gzip: [0, 9], zstd: [-7, 22] };

/** The OCI layer media type of a blob in each compression kb writes. */
export const LAYER_MEDIA_TYPE: Record<Compression, string> = {
  gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd, none: MediaType.OciLayer,
};

/** Names the compression of a blob from its first bytes (6 are enough). */
export function detectCompression(head: Uint8Array): DetectedCompression {
  const m = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (m(0x1f, 0x8b)) return "gzip";
  if (m(0x28, 0xb5, 0x2f, 0xfd)) return "zstd";
  if (m(0x42, 0x5a, 0x68)) return "bzip2";
  if (m(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "xz";
  return "none";
}

/** Wraps a zlib failure; an error that came from the input stream (already a KbError) passes through as is. */
function zlibError(action: string) {
  return (e: unknown) =>
    e instanceof KbError ? e : new KbError("LAYER_INVALID", `Cannot ${action}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e, hint: "The blob is corrupt or truncated; fetch it again",
    });
}

/**
 * Compresses a stream. Output is pulled: nothing is buffered beyond zlib's own window.
 * @example const gz = compressStream(tar, { algorithm: "gzip", level: 1 });
 */
export function compressStream(stream: ReadableStream<Uint8Array>, opts: CompressOptions): ReadableStream<Uint8Array> {
  if (opts.algorithm === "none") return stream;
  const level = opts.level ?? DEFAULT_LEVEL[opts.algorithm];
  // gzip is always cut into members (libdeflate has no streaming API); workers only when asked for.
  if (opts.algorithm === "gzip") return parallelCompress(stream, "gzip", level, opts.parallel ? undefined : 0, opts.reuse);
  if (opts.parallel) return parallelCompress(stream, opts.algorithm, level, undefined, opts.reuse);
  const t = zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: level } });
  return throughNode(stream, t, t, zlibError(`compress the layer with ${opts.algorithm}`));
}

function viaProgram(stream: ReadableStream<Uint8Array>, prog: string): ReadableStream<Uint8Array> {
  const child = spawn(prog, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<number | Error>((res) => {
    child.on("error", (e) => res(e));
    child.on("close", (code) => res(code ?? -1));
  });
  child.stdin.on("error", () => {}); // EPIPE when the program exits early: reported through its exit code
  const missing = (e: unknown) => (e as NodeJS.ErrnoException)?.code === "ENOENT";
  return throughNode(stream, child.stdin, child.stdout, (e) => {
    if (missing(e)) {
      return new KbError("LAYER_INVALID", `Cannot decompress a ${prog} layer: the "${prog}" program is not installed`, {
        hint: `Install it (Debian: apt-get install ${prog === "xz" ? "xz-utils" : prog})`, cause: e,
      });
    }
    return e instanceof KbError ? e : zlibError(`decompress the ${prog} layer`)(e);
  }, async () => {
    const r = await exited;
    if (r instanceof Error) throw r;
    if (r !== 0) throw new KbError("LAYER_INVALID", `Cannot decompress the ${prog} layer: "${prog} -dc" exited with ${r}: ${stderr.trim()}`);
  });
}

/**
 * Decompresses a layer blob of any kind kb reads (gzip, possibly multi-member; zstd; bzip2 and xz through
 * the `bzip2`/`xz` programs), detected by its magic bytes; an uncompressed tar passes through.
 */
export function decompressStream(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let out: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const open = async () => {
    const { first, rest } = await peek(stream.getReader(), 6);
    const kind = detectCompression(first);
    switch (kind) {
      case "none": return rest;
      case "gzip": {
        const native = nativeGunzip();
        if (native) return mapStreamError(inPieces(rest, INFLATE_PIECE).pipeThrough(native), zlibError("decompress the gzip layer"));
        const t = zlib.createGunzip();
        return throughNode(rest, t, t, zlibError("decompress the gzip layer"));
      }
      case "zstd": {
        if (typeof zlib.createZstdDecompress !== "function") throw new KbError("LAYER_INVALID", "Cannot decompress a zstd layer: zstd is not available in this runtime", { hint: "run the kb binary (Bun), or use gzip layers" });
        const t = zlib.createZstdDecompress();
        return throughNode(rest, t, t, zlibError("decompress the zstd layer"));
      }
      default: return viaProgram(rest, kind);
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      out ??= (await open()).getReader();
      const { done, value } = await out.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    async cancel(reason) {
      if (out) await out.cancel(reason);
      else await stream.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * The most compressed bytes handed to the native inflater at once. It inflates a whole input chunk in one go (a
 * 256 KiB read of a text layer is ~1 MB out); fed 64 KiB at a time, the Debian base's build peaks ~9 MB lower at
 * the same speed (decision 134).
 */
const INFLATE_PIECE = 64 * 1024;

/** `stream` with every chunk cut into views of at most `n` bytes, each read only when asked for. */
function inPieces(stream: ReadableStream<Uint8Array>, n: number): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let rest: Uint8Array = new Uint8Array(0);
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      while (rest.length === 0) {
        const r = await reader.read();
        if (r.done) return c.close();
        rest = r.value;
      }
      c.enqueue(rest.subarray(0, n));
      rest = rest.subarray(n);
    },
    cancel: (why) => reader.cancel(why),
  }, { highWaterMark: 0 });
}

/** `stream` with its read errors passed through `map` (a web transform's errors are plain TypeErrors). */
function mapStreamError(stream: ReadableStream<Uint8Array>, map: (e: unknown) => unknown): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      } catch (e) {
        throw map(e);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

/** Reads at least `n` bytes (fewer at end of stream) and returns them plus a stream of everything. */
export function peekStream(stream: ReadableStream<Uint8Array>, n: number): Promise<{ first: Uint8Array; rest: ReadableStream<Uint8Array> }> {
  return peek(stream.getReader(), n);
}

async function peek(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<{ first: Uint8Array; rest: ReadableStream<Uint8Array> }> {
  const head: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const { done, value } = await reader.read();
    if (done) break;
    head.push(value);
    got += value.length;
  }
  const first = new Uint8Array(got);
  let o = 0;
  for (const h of head) {
    first.set(h, o);
    o += h.length;
  }
  let sent = first.length === 0;
  const rest = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(first);
        return;
      }
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (r) => reader.cancel(r),
  }, { highWaterMark: 0 });
  return { first, rest };
}
