// Decompression of layer blobs by media type: gzip via DecompressionStream, zstd via node:zlib (web streams out).

import { Readable } from "node:stream";
import * as zlib from "node:zlib";
import { KbError } from "../errors.ts";

/** "gzip" | "zstd" | "none" from a layer media type (Docker and OCI names). */
export function compressionOf(mediaType: string): "gzip" | "zstd" | "none" {
  if (/(\+|\.)gzip$/.test(mediaType)) return "gzip";
  if (/(\+|\.)zstd$/.test(mediaType)) return "zstd";
  return "none";
}

/** Decompresses a layer blob stream according to its media type. */
export function decompressStream(stream: ReadableStream<Uint8Array>, mediaType: string): ReadableStream<Uint8Array> {
  const kind = compressionOf(mediaType);
  if (kind === "none") return stream;
  if (kind === "gzip") return stream.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  const z = zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream };
  if (!z.createZstdDecompress) {
    throw new KbError("LAYER_INVALID", `Cannot decompress layer type "${mediaType}": this runtime has no zstd`, {
      hint: "run kb with a runtime whose node:zlib has zstd (Bun, Node 22.15+)",
    });
  }
  const out = Readable.from(stream as unknown as AsyncIterable<Uint8Array>).pipe(z.createZstdDecompress());
  return Readable.toWeb(out as unknown as Readable) as unknown as ReadableStream<Uint8Array>;
}
