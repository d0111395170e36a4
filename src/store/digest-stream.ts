// Hashing and verifying pass-through streams (sha256 via node:crypto, never tee()).

import { createHash } from "node:crypto";
import { KbError } from "../errors.ts";
import type { Digest } from "../image/types.ts";

/** sha256 of some bytes as a kb Digest. */
export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A pass-through that hashes what flows by; `digest()` and `size()` are final once the stream has ended. */
export interface HashingTransform {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  digest(): Digest;
  size(): number;
}

/**
 * Creates a pass-through that hashes every chunk.
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
  });
  return {
    stream,
    digest() {
      final ??= `sha256:${hash.digest("hex")}`;
      return final;
    },
    size: () => size,
  };
}

/**
 * A pass-through that fails the stream (instead of ending it) when the bytes do not hash to `expected`
 * or (when given) their count differs from `size`. `what` names the blob in the error message.
 */
export function verifyingTransform(expected: Digest, size?: number, what = "blob"): TransformStream<Uint8Array, Uint8Array> {
  const hash = createHash("sha256");
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (size !== undefined && seen > size) {
        controller.error(sizeMismatch(what, expected, size, seen));
        return;
      }
      hash.update(chunk);
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (size !== undefined && seen !== size) {
        controller.error(sizeMismatch(what, expected, size, seen));
        return;
      }
      const got = `sha256:${hash.digest("hex")}`;
      if (got !== expected) controller.error(digestMismatch(what, expected, got));
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
