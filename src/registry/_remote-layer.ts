// A lazy layer backed by a registry blob: nothing is fetched until compressed() or uncompressed() is called.

import * as zlib from "node:zlib";
import { Readable } from "node:stream";
import { KbError } from "../errors.ts";
import type { Layer } from "../image/image.ts";
import type { Reference } from "../image/reference.ts";
import type { Descriptor, Digest } from "../image/types.ts";
import { verifyingStream } from "./_verify.ts";
import type { RegistryClient } from "./client.ts";

/**
 * Streams a blob from `ref`'s repository, verifying digest and size while streaming (an error at the end
 * on mismatch). Emits progress events.
 */
export async function fetchBlob(client: RegistryClient, ref: Reference, desc: { digest: Digest; size?: number }, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const subject = `${ref.name()}@${desc.digest}`;
  const { res } = await client.request({
    registry: ref.registry,
    repository: ref.repository,
    method: "GET",
    path: `/v2/${ref.repository}/blobs/${desc.digest}`,
    action: "pull blob",
    subject,
    signal,
    mirrors: true,
  });
  if (!res.body) throw new KbError("REGISTRY_PROTOCOL", `Cannot pull blob "${subject}": the registry sent no body`);
  let last = 0;
  return verifyingStream(res.body, { digest: desc.digest, size: desc.size, subject }, (done) => {
    if (done - last >= 1 << 20 || done === desc.size) {
      last = done;
      client.progress({ id: desc.digest, action: "pull", done, total: desc.size, finished: done === desc.size });
    }
  });
}

/** Decompresses a layer stream by its media type (gzip, zstd, or plain tar). */
export function decompressLayer(stream: ReadableStream<Uint8Array>, mediaType: string, what: string): ReadableStream<Uint8Array> {
  if (/gzip/.test(mediaType)) return stream.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  if (/zstd/.test(mediaType)) {
    const make = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
    if (!make) throw new KbError("LAYER_INVALID", `Cannot decompress layer "${what}": zstd is not available in this runtime`);
    const node = Readable.fromWeb(stream as never).pipe(make() as never) as unknown as Readable;
    return Readable.toWeb(node) as unknown as ReadableStream<Uint8Array>;
  }
  if (/tar$/.test(mediaType) || /diff\.tar$/.test(mediaType)) return stream;
  throw new KbError("LAYER_INVALID", `Cannot decompress layer "${what}": unknown media type "${mediaType}"`);
}

/** A registry layer. `sourceRepository` ("registry/repository") tells a push where it may mount the blob from. */
export class RemoteLayer implements Layer {
  readonly mediaType: string;
  readonly sourceRepository: string;
  constructor(
    private client: RegistryClient,
    private ref: Reference,
    private desc: Descriptor,
    private diffIdOf: () => Promise<Digest>,
  ) {
    this.mediaType = desc.mediaType;
    this.sourceRepository = ref.name();
  }
  digest = async () => this.desc.digest;
  size = async () => this.desc.size;
  diffId = () => this.diffIdOf();
  descriptor = async () => ({ ...this.desc });
  compressed(signal?: AbortSignal) {
    return fetchBlob(this.client, this.ref, this.desc, signal);
  }
  async uncompressed(signal?: AbortSignal) {
    return decompressLayer(await this.compressed(signal), this.mediaType, this.desc.digest);
  }
}
