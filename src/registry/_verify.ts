// What arrives from a registry is checked: blob mismatches worded for a registry (on src/image/digest.ts), size caps of documents.

import { KbError } from "../errors.ts";
import type { VerifyOptions } from "../image/digest.ts";
import type { Digest } from "../image/types.ts";

/** The errors a registry blob fails with: a size mismatch is temporary (a truncated answer), a digest mismatch is not. */
export function registryBlobErrors(expect: { digest: Digest; size?: number; subject: string }): Required<Pick<VerifyOptions, "sizeError" | "digestError">> {
  return {
    sizeError: (n, over) =>
      new KbError("BLOB_SIZE_MISMATCH", `Cannot verify blob "${expect.digest}" of "${expect.subject}": ${over ? `received more than ${expect.size} bytes` : `received ${n} bytes`}, expected ${expect.size} bytes`, {
        hint: "The registry served a truncated or different blob; retry, or check the registry's storage",
        temporary: true,
      }),
    digestError: (got) =>
      new KbError("BLOB_DIGEST_MISMATCH", `Cannot verify blob "${expect.digest}" of "${expect.subject}": its content hashes to "${got}"`, {
        hint: "The registry served different bytes than the manifest names; the image or the registry is corrupt",
      }),
  };
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
