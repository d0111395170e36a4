// Web streams over files: a pull-driven reader (optionally a byte range) and a writer loop with backpressure.

import { open, type FileHandle } from "node:fs/promises";
import { memoryCheckpoint } from "../runtime.ts";

const CHUNK = 256 * 1024;

/** Options of {@link fileStream}. */
export interface FileStreamOptions {
  /** First byte to read. @default 0 */
  start?: number;
  /** Number of bytes to read from `start`. @default to the end of the file */
  length?: number;
  signal?: AbortSignal;
}

/**
 * Opens a file (or a byte range of it) as a ReadableStream. The file is opened before this resolves
 * (so a missing file fails here) and closed when the stream ends, errors or is cancelled.
 * @example const s = await fileStream("/tmp/x", { start: 512, length: 1024 })
 */
export async function fileStream(path: string, opts: FileStreamOptions = {}): Promise<ReadableStream<Uint8Array>> {
  const fh = await open(path, "r");
  let pos = opts.start ?? 0;
  const end = opts.length === undefined ? Infinity : pos + opts.length;
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        opts.signal?.throwIfAborted();
        const want = Math.min(CHUNK, end - pos);
        if (want <= 0) {
          await close();
          controller.close();
          return;
        }
        memoryCheckpoint(); // each chunk is a new buffer, dead once read: a pushed 40 MB blob raised RSS by ~20 MB
        const buf = new Uint8Array(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) {
          await close();
          if (end !== Infinity) throw new RangeError(`Cannot read "${path}": file ends at byte ${pos}, before ${end}`);
          controller.close();
          return;
        }
        pos += bytesRead;
        controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      } catch (e) {
        await close().catch(() => {});
        controller.error(e);
      }
    },
    async cancel() {
      await close();
    },
  }, { highWaterMark: 1 });
}

/** Writes a whole stream into an open file handle, awaiting each write (backpressure); returns bytes written. */
export async function writeStreamTo(stream: ReadableStream<Uint8Array>, fh: FileHandle, signal?: AbortSignal): Promise<number> {
  const reader = stream.getReader();
  let n = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) return n;
      let off = 0;
      while (off < value.byteLength) {
        const { bytesWritten } = await fh.write(value, off, value.byteLength - off);
        off += bytesWritten;
      }
      n += value.byteLength;
    }
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}

/** Reads a whole (small) stream into memory: only for manifests, configs and indexes. */
export async function readAllBytes(stream: ReadableStream<Uint8Array>, limit = 16 * 1024 * 1024): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += chunk.byteLength;
    if (n > limit) throw new RangeError(`Cannot read a JSON document: larger than ${limit} bytes`);
    parts.push(chunk);
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
