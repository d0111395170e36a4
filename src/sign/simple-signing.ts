// Cosign's simple-signing payload and its ECDSA-SHA256 signature
// (https://github.com/containers/image/blob/main/docs/containers-signature.5.md, the "cosign container image signature" type).

import { sign, verify, type KeyObject } from "node:crypto";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const TYPE = "cosign container image signature";

/** The payload that is signed: which reference and which manifest digest. */
export function simpleSigningPayload(dockerReference: string, manifestDigest: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ critical: { identity: { "docker-reference": dockerReference }, image: { "docker-manifest-digest": manifestDigest }, type: TYPE }, optional: null }));
}

/** Base64 ASN.1 ECDSA-SHA256 signature of `payload` (what the annotation holds). */
export function signPayload(payload: Uint8Array, key: KeyObject): string {
  return sign("sha256", payload, key).toString("base64");
}

/** What a payload claims, once its signature verified; undefined when the signature or the shape is wrong. */
export function verifyPayload(payload: Uint8Array, signatureB64: string, key: KeyObject): { dockerReference: string; digest: string } | undefined {
  let ok = false;
  try {
    ok = verify("sha256", payload, key, Buffer.from(signatureB64, "base64"));
  } catch {
    return undefined;
  }
  if (!ok) return undefined;
  try {
    const doc = JSON.parse(new TextDecoder().decode(payload));
    const c = doc?.critical;
    if (c?.type !== TYPE || typeof c?.identity?.["docker-reference"] !== "string" || typeof c?.image?.["docker-manifest-digest"] !== "string") return undefined;
    return { dockerReference: c.identity["docker-reference"], digest: c.image["docker-manifest-digest"] };
  } catch {
    return undefined;
  }
}
