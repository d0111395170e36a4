// in-toto statements (https://github.com/in-toto/attestation/blob/main/spec/v0.1.0/statement.md) and the
// attestation manifest BuildKit attaches beside each image (docs/attestations/attestation-storage.md in moby/buildkit).

import { createHash } from "node:crypto";
import type { Image, Layer } from "../image/image.ts";
import { assembleImage } from "../image/assemble.ts";
import type { Descriptor, Digest } from "../image/types.ts";

export const IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v0.1";
export const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
export const PREDICATE_TYPE_ANNOTATION = "in-toto.io/predicate-type";
export const SPDX_PREDICATE = "https://spdx.dev/Document";
export const SLSA_V1_PREDICATE = "https://slsa.dev/provenance/v1";
/** Index-descriptor annotations that tie an attestation manifest to its image. */
export const REFERENCE_TYPE = "vnd.docker.reference.type";
export const REFERENCE_DIGEST = "vnd.docker.reference.digest";
export const ATTESTATION_MANIFEST = "attestation-manifest";

const sha256 = (b: Uint8Array): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A statement's subject: the image by name and digest. */
export interface Subject {
  name: string;
  digest: Digest;
}

/** The in-toto statement of `predicate` about `subjects`. */
export function statement(predicateType: string, subjects: Subject[], predicate: unknown): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT,
    predicateType,
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.digest.replace(/^sha256:/, "") } })),
    predicate,
  };
}

/** A layer over bytes in memory (an uncompressed blob: digest = diffID), with descriptor annotations. */
export function bytesLayer(bytes: Uint8Array, mediaType: string, annotations?: Record<string, string>): Layer {
  const digest = sha256(bytes);
  const stream = () => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes), c.close()) });
  return {
    digest: async () => digest,
    diffId: async () => digest,
    size: async () => bytes.length,
    mediaType,
    compressed: async () => stream(),
    uncompressed: async () => stream(),
    descriptor: async (): Promise<Descriptor> => ({ mediaType, digest, size: bytes.length, ...(annotations ? { annotations } : {}) }),
  };
}

/** One statement to attach: its predicate type and its JSON. */
export interface Attestation {
  predicateType: string;
  statement: Record<string, unknown>;
}

/**
 * The attestation manifest of one image, as BuildKit writes it: an OCI manifest whose config says
 * unknown/unknown and whose layers are the statements (application/vnd.in-toto+json, annotated with their
 * predicate type). Attach it with {@link attestationDescriptorAnnotations} in the index.
 * @example const att = attestationManifest([{ predicateType: SPDX_PREDICATE, statement: st }])
 */
export function attestationManifest(attestations: Attestation[]): Image {
  const layers = attestations.map((a) => bytesLayer(new TextEncoder().encode(JSON.stringify(a.statement)), IN_TOTO_MEDIA_TYPE, { [PREDICATE_TYPE_ANNOTATION]: a.predicateType }));
  return assembleImage({ config: { architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: [] } }, layers, mediaTypes: "oci" });
}

/** The annotations an index descriptor of an attestation manifest carries. */
export function attestationDescriptorAnnotations(imageDigest: Digest): Record<string, string> {
  return { [REFERENCE_DIGEST]: imageDigest, [REFERENCE_TYPE]: ATTESTATION_MANIFEST };
}
