// writeLayer: tar → sha256 (diffID) → compress → sha256 (digest) → sink, in one pass with no temp copy.

import { hashingTransform } from "../image/digest.ts";
import type { Digest } from "../image/types.ts";
import { type Compression, compressStream, LAYER_MEDIA_TYPE } from "./compress.ts";
import type { MemberReuse } from "./parallel-compress.ts";

export interface WriteLayerOptions {
  compression: Compression;
  /** Compress on every core (4 MiB gzip members / zstd frames). @default false */
  parallel?: boolean;
  /** @default gzip 2, zstd 3 */
  level?: number;
  /** Compressed members an earlier blob can give (see MemberReuse); the blob is the same bytes either way. */
  reuse?: MemberReuse;
}

export interface WrittenLayer {
  /** sha256 of the compressed blob. */
  digest: Digest;
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Bytes of the compressed blob. */
  size: number;
  uncompressedSize: number;
  mediaType: string;
}

/**
 * Streams a tar into `sink` compressed, hashing both sides on the way; `sink` must read its stream
 * to the end (e.g. the blob store's put or a registry upload). Resolves once the sink has resolved.
 * @example const l = await writeLayer(tar, { compression: "gzip" }, (s) => store.put(s).then(() => {}));
 */
export async function writeLayer(
  tar: ReadableStream<Uint8Array>,
  opts: WriteLayerOptions,
  sink: (compressed: ReadableStream<Uint8Array>) => Promise<void>,
): Promise<WrittenLayer> {
  const diff = hashingTransform();
  const blob = hashingTransform();
  const compressed = compressStream(tar.pipeThrough(diff.stream), { algorithm: opts.compression, level: opts.level, parallel: opts.parallel, reuse: opts.reuse });
  await sink(compressed.pipeThrough(blob.stream));
  return { digest: blob.digest(), diffId: diff.digest(), size: blob.size(), uncompressedSize: diff.size(), mediaType: LAYER_MEDIA_TYPE[opts.compression] };
}
