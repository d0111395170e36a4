// Cosign signatures in a registry: the image `repo:sha256-<hex>.sig` whose layers are simple-signing payloads,
// each annotated with its signature (the layout cosign and containers/image's use-sigstore-attachments read).

import type { KeyObject } from "node:crypto";
import { isKbError } from "../errors.ts";
import { assembleImage } from "../image/assemble.ts";
import { parseReference, withTag, type Reference } from "../image/reference.ts";
import type { Digest, Manifest } from "../image/types.ts";
import { fetchManifest, pushImage, RemoteImage, type RegistryClient } from "../registry/index.ts";
import { bytesLayer } from "../attest/in-toto.ts";
import { readCapped } from "../attest/layer-walk.ts";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, signPayload, simpleSigningPayload, verifyPayload } from "./simple-signing.ts";

/** The tag cosign stores the signatures of `digest` under. */
export const signatureTag = (digest: string) => `${digest.replace(":", "-")}.sig`;

/** One signature found: its payload and base64 signature. */
export interface StoredSignature {
  payload: Uint8Array;
  signature: string;
}

/** The signatures stored for `digest` in `repo` (none when the .sig tag does not exist). */
export async function readSignatures(client: RegistryClient, repo: Reference, digest: Digest, signal?: AbortSignal): Promise<StoredSignature[]> {
  const ref = withTag(repo, signatureTag(digest));
  let fetched;
  try {
    fetched = await fetchManifest(client, ref, undefined, signal);
  } catch (e) {
    if (isKbError(e, "REGISTRY_NOT_FOUND")) return [];
    throw e;
  }
  const img = new RemoteImage(client, ref, fetched);
  const manifest = (await img.manifest()) as Manifest;
  const out: StoredSignature[] = [];
  for (const d of manifest.layers ?? []) {
    const sig = d.annotations?.[SIGNATURE_ANNOTATION];
    if (d.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE || !sig || d.size > 1 << 20) continue;
    const payload = await readCapped(await (await img.layerByDigest(d.digest)).compressed(signal), 1 << 20);
    if (payload) out.push({ payload, signature: sig });
  }
  return out;
}

/** The identity a signature names: the reference as given, without a digest (a tag stays, as skopeo signs). */
export function signedIdentity(ref: Reference): string {
  return ref.tag ? `${ref.name()}:${ref.tag}` : ref.name();
}

/**
 * Signs `digest` as `identity` and adds the signature to `repo`'s `sha256-<hex>.sig` image, keeping the
 * signatures already there (the same payload signed again is not added twice).
 */
export async function addSignature(client: RegistryClient, repo: Reference, digest: Digest, identity: string, key: KeyObject, signal?: AbortSignal): Promise<{ tag: string; count: number }> {
  const existing = await readSignatures(client, repo, digest, signal);
  const payload = simpleSigningPayload(identity, digest);
  const all = [...existing];
  const text = new TextDecoder().decode(payload);
  if (!existing.some((s) => new TextDecoder().decode(s.payload) === text && verifyPayload(s.payload, s.signature, key))) all.push({ payload, signature: signPayload(payload, key) });
  const layers = all.map((s) => bytesLayer(s.payload, SIMPLE_SIGNING_MEDIA_TYPE, { [SIGNATURE_ANNOTATION]: s.signature }));
  const zero = "0001-01-01T00:00:00Z";
  const img = assembleImage({
    config: { architecture: "", os: "", created: zero, history: all.map(() => ({ created: zero })), config: {}, rootfs: { type: "layers", diff_ids: [] } },
    layers,
    mediaTypes: "oci",
  });
  const tag = signatureTag(digest);
  await pushImage(client, [withTag(repo, tag)], img, { signal });
  return { tag, count: all.length };
}

/** Signatures of `digest` that `key` verifies and whose identity is `repo` (any tag). */
export function verifiedSignatures(sigs: StoredSignature[], repo: Reference, digest: Digest, key: KeyObject): { dockerReference: string; digest: string }[] {
  return sigs.flatMap((s) => {
    const claim = verifyPayload(s.payload, s.signature, key);
    if (!claim || claim.digest !== digest) return [];
    try {
      return parseReference(claim.dockerReference).name() === repo.name() ? [claim] : [];
    } catch {
      return [];
    }
  });
}
