// A lazy layer backed by a registry blob: nothing is fetched until compressed() or uncompressed() is called.

import { KbError } from "../errors.ts";
import type { Layer } from "../image/image.ts";
import type { Reference } from "../image/reference.ts";
import type { Descriptor, Digest } from "../image/types.ts";
import { decompressStream } from "../layer/index.ts";
import { verifyingTransform } from "../image/digest.ts";
import { registryBlobErrors } from "./_verify.ts";
import { IDLE_HINT, IdleTimeoutError } from "./idle-body.ts";
import type { RegistryClient } from "./client.ts";

/**
 * Streams a blob from `ref`'s repository, verifying digest and size while streaming (an error at the end
 * on mismatch). Emits progress events.
 */
export async function fetchBlob(client: RegistryClient, ref: Reference, desc: { digest: Digest; size?: number }, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const subject = `${ref.name()}@${desc.digest}`;
  const open = async (offset: number) => {
    const { res } = await client.request({
      registry: ref.registry,
      repository: ref.repository,
      method: "GET",
      path: `/v2/${ref.repository}/blobs/${desc.digest}`,
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : undefined,
      action: "pull blob",
      subject,
      signal,
      mirrors: true,
    });
    if (!res.body) throw new KbError("REGISTRY_PROTOCOL", `Cannot pull blob "${subject}": the registry sent no body`);
    return { body: res.body, skip: offset > 0 && res.status !== 206 ? offset : 0 };
  };
  let last = 0;
  const onBytes = (done: number) => {
    if (done - last >= 1 << 20 || done === desc.size) {
      last = done;
      client.progress({ id: desc.digest, action: "pull", done, total: desc.size, finished: done === desc.size });
    }
  };
  const verify = verifyingTransform(desc.digest, desc.size, "blob", { onBytes, ...registryBlobErrors({ digest: desc.digest, size: desc.size, subject }) });
  return resumingBody(await open(0), open, client.retries, subject, signal).pipeThrough(verify);
}

/**
 * A blob body that survives dropped connections: on a read error it asks again from the byte it got to
 * (Range; a 200 answer is skipped up to there), at most `retries` times, then fails with a temporary KbError.
 */
function resumingBody(
  first: { body: ReadableStream<Uint8Array>; skip: number },
  open: (offset: number) => Promise<{ body: ReadableStream<Uint8Array>; skip: number }>,
  retries: number,
  subject: string,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  let reader = first.body.getReader();
  let skip = first.skip;
  let done = 0;
  let resumes = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      for (;;) {
        try {
          const r = await reader.read();
          if (r.done) return ctl.close();
          let chunk = r.value;
          if (skip > 0) {
            const cut = Math.min(skip, chunk.length);
            skip -= cut;
            chunk = chunk.subarray(cut);
            if (chunk.length === 0) continue;
          }
          done += chunk.length;
          return ctl.enqueue(chunk);
        } catch (e) {
          if (signal?.aborted || e instanceof KbError) throw e;
          if (resumes++ >= retries) {
            const why = e instanceof IdleTimeoutError ? `${e.message} (${done} bytes of the blob in all)` : `the connection broke after ${done} bytes`;
            throw new KbError("REGISTRY", `Cannot pull blob "${subject}": ${why}, ${retries} resumes tried`, {
              hint: e instanceof IdleTimeoutError ? IDLE_HINT : "The registry or the network drops connections; retry later",
              temporary: true,
              cause: e,
            });
          }
          reader.cancel().catch(() => {});
          ({ body: first.body, skip } = await open(done));
          reader = first.body.getReader();
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Decompresses a layer stream of a known layer media type (gzip, zstd or plain tar; the bytes are decoded by what
 * they are, as containerd does, through the layer module's one decompressor).
 */
export function decompressLayer(stream: ReadableStream<Uint8Array>, mediaType: string, what: string): ReadableStream<Uint8Array> {
  if (/gzip|zstd/.test(mediaType) || /tar$/.test(mediaType)) return decompressStream(stream);
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
