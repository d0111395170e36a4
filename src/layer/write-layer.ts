// writeLayer: tar → sha256 (diffID) → compress → sha256 (digest) → sink, in one pass with no temp copy.

import { createHash } from "node:crypto";
import { type Digest, MediaType } from "../image/types.ts";
import { type Compression, compressStream } from "./compress.ts";

/** A pass-through TransformStream that hashes and counts what flows through it. */
export class HashingStream extends TransformStream<Uint8Array, Uint8Array> {
  #hash = createHash("sha256");
  #digest: Digest | undefined;
  /** Bytes seen so far. */
  bytes = 0;
  constructor() {
    super({
      transform: (chunk, c) => {
        this.#hash.update(chunk);
        this.bytes += chunk.length;
        c.enqueue(chunk);
      },
      flush: () => {
        this.#digest = `sha256:${this.#hash.digest("hex")}`;
      },
    });
  }
  /** The digest, available once the stream has ended. */
  get digest(): Digest {
    if (!this.#digest) throw new Error("Cannot read the digest: the stream has not ended");
    return this.#digest;
  }
}

export interface WriteLayerOptions {
  compression: Compression;
  /** Compress on every core (4 MiB gzip members / zstd frames). @default false */
  parallel?: boolean;
  /** @default gzip 2, zstd 3 */
  level?: number;
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

const MEDIA: Record<Compression, string> = {
  gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd, none: MediaType.OciLayer,
};

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
  const diff = new HashingStream();
  const blob = new HashingStream();
  const compressed = compressStream(tar.pipeThrough(diff), { algorithm: opts.compression, level: opts.level, parallel: opts.parallel });
  await sink(compressed.pipeThrough(blob));
  return { digest: blob.digest, diffId: diff.digest, size: blob.bytes, uncompressedSize: diff.bytes, mediaType: MEDIA[opts.compression] };
}
