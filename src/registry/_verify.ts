// Pass-through transforms that check what arrives from a registry: digest and size of blobs, size caps of documents.

import { createHash } from "node:crypto";
import { KbError } from "../errors.ts";
import type { Digest } from "../image/types.ts";

/** Wraps `src` so that it errors (at the end, or as soon as it is too long) when bytes don't match digest and size. */
export function verifyingStream(
  src: ReadableStream<Uint8Array>,
  expect: { digest: Digest; size?: number; subject: string },
  onBytes?: (done: number) => void,
): ReadableStream<Uint8Array> {
  const hash = createHash("sha256");
  let n = 0;
  const mismatch = (got: string) =>
    new KbError("BLOB_SIZE_MISMATCH", `Cannot verify blob "${expect.digest}" of "${expect.subject}": ${got}, expected ${expect.size} bytes`, {
      hint: "The registry served a truncated or different blob; retry, or check the registry's storage",
      temporary: true,
    });
  return src.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        n += chunk.length;
        if (expect.size !== undefined && n > expect.size) throw mismatch(`received more than ${expect.size} bytes`);
        hash.update(chunk);
        onBytes?.(n);
        ctl.enqueue(chunk);
      },
      flush() {
        if (expect.size !== undefined && n !== expect.size) throw mismatch(`received ${n} bytes`);
        const got = `sha256:${hash.digest("hex")}`;
        if (got !== expect.digest)
          throw new KbError("BLOB_DIGEST_MISMATCH", `Cannot verify blob "${expect.digest}" of "${expect.subject}": its content hashes to "${got}"`, {
            hint: "The registry served different bytes than the manifest names; the image or the registry is corrupt",
          });
      },
    }),
  );
}

/** Reads a whole (small) body, failing once it passes `cap` bytes. */
export async function readBounded(body: ReadableStream<Uint8Array> | null, cap: number, what: () => KbError): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > cap) {
      await reader.cancel().catch(() => {});
      throw what();
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** sha256 digest of bytes. */
export function sha256Digest(b: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}
