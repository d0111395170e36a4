// SHA-256 digests of bytes and streams, and the pass-throughs that hash or verify what flows by (node:crypto,
// never tee()). The one place kb computes a content digest: stores, registries, layer writers and files use it.

import { createHash } from "node:crypto";
import { KbError } from "../errors.ts";
import type { Digest } from "./types.ts";

/** sha256 of some bytes as a kb Digest. */
export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A pass-through that hashes what flows by; `digest()` (which throws before the end) and `size()` are final once the stream has ended. */
export interface HashingTransform {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  digest(): Digest;
  size(): number;
}

/**
 * Creates a pass-through that hashes and counts every chunk.
 * @example const h = hashingTransform(); await src.pipeThrough(h.stream).pipeTo(sink); h.digest()
 */
export function hashingTransform(): HashingTransform {
  const hash = createHash("sha256");
  let size = 0;
  let final: Digest | undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      size += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush() {
      final = `sha256:${hash.digest("hex")}`;
    },
  });
  return {
    stream,
    digest() {
      if (!final) throw new Error("Cannot read the digest: the stream has not ended");
      return final;
    },
    size: () => size,
  };
}

/** Reads a stream to its end and returns its digest and byte count. */
export async function digestOfStream(src: ReadableStream<Uint8Array>): Promise<{ digest: Digest; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of src) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

/** How a verifying pass-through reports a mismatch and progress (each reader words its errors for its source). */
export interface VerifyOptions {
  /** Called after each chunk with the bytes seen so far. */
  onBytes?(seen: number): void;
  /** The error for a byte count that differs from `size`; `over` when the stream ran past it. @default sizeMismatch */
  sizeError?(seen: number, over: boolean): KbError;
  /** The error for bytes that hash to `got`. @default digestMismatch */
  digestError?(got: Digest): KbError;
}

/**
 * A pass-through that fails the stream (instead of ending it) when the bytes do not hash to `expected`
 * or (when given) their count differs from `size`. `what` names the blob in the default error messages.
 */
export function verifyingTransform(expected: Digest, size?: number, what = "blob", opts: VerifyOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const hash = createHash("sha256");
  const sizeError = opts.sizeError ?? ((seen: number) => sizeMismatch(what, expected, size!, seen));
  const digestError = opts.digestError ?? ((got: Digest) => digestMismatch(what, expected, got));
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (size !== undefined && seen > size) {
        controller.error(sizeError(seen, true));
        return;
      }
      hash.update(chunk);
      opts.onBytes?.(seen);
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (size !== undefined && seen !== size) {
        controller.error(sizeError(seen, false));
        return;
      }
      const got: Digest = `sha256:${hash.digest("hex")}`;
      if (got !== expected) controller.error(digestError(got));
    },
  });
}

/** The KbError for bytes that do not match their digest. */
export function digestMismatch(what: string, expected: string, got: string): KbError {
  return new KbError("BLOB_DIGEST_MISMATCH", `Cannot accept ${what} "${expected}": its content hashes to "${got}"`, {
    hint: "the source is corrupt or was modified; fetch it again, or run \"kb cache verify\" for the store",
  });
}

/** The KbError for bytes whose count differs from the declared size. */
export function sizeMismatch(what: string, d: string, expected: number, got: number): KbError {
  return new KbError("BLOB_SIZE_MISMATCH", `Cannot accept ${what} "${d}": expected ${expected} bytes, got ${got} or more`, {
    hint: "the source is truncated or its descriptor is wrong",
  });
}
