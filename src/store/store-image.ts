// Images and layers over content-addressed blobs (the store, an OCI layout, a docker-archive).

import { KbError } from "../errors.ts";
import { imageFromParts } from "../image/assemble.ts";
import type { Image, Layer } from "../image/image.ts";
import { isDigest, isManifestMediaType, type Descriptor, type Digest, type Manifest } from "../image/types.ts";
import { decompressStream } from "../layer/index.ts";
import type { BlobStore } from "./blob-store.ts";
import { readAllBytes } from "./file-stream.ts";

/**
 * Where blobs come from. `open` MUST give bytes that match `d` (the store does by construction;
 * untrusted sources wrap their streams in `verifyingTransform`).
 */
export interface BlobSource {
  open(d: Digest, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}

/**
 * A Layer over one blob of a source: `descriptor` as in the manifest, `diffId` from the config.
 * @example const layer = blobLayer(store, desc, config.rootfs.diff_ids[0])
 */
export function blobLayer(source: BlobSource, descriptor: Descriptor, diffId: Digest): Layer {
  const desc = { ...descriptor };
  return {
    digest: async () => desc.digest,
    diffId: async () => diffId,
    size: async () => desc.size,
    mediaType: desc.mediaType,
    compressed: (signal) => source.open(desc.digest, signal),
    uncompressed: async (signal) => decompressStream(await source.open(desc.digest, signal)), // by magic bytes, as ggcr
    descriptor: async () => ({ ...desc }),
  };
}

/** Reads a small JSON blob (manifest, config, index) fully; the source verified it. */
export async function readBlobBytes(source: BlobSource, d: Digest, signal?: AbortSignal): Promise<Uint8Array> {
  return readAllBytes(await source.open(d, signal));
}

/** Parses JSON bytes (an object, or a list when `shape` says so) or throws MANIFEST_INVALID naming `what`. */
export function parseJson<T>(bytes: Uint8Array, what: string, shape: "object" | "array" = "object"): T {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof v !== "object" || v === null || Array.isArray(v) !== (shape === "array")) throw new SyntaxError(`not a JSON ${shape}`);
    return v as T;
  } catch (e) {
    throw new KbError("MANIFEST_INVALID", `Cannot parse ${what}: ${(e as Error).message}`, {
      hint: "the image is corrupt or not an OCI/Docker image",
      cause: e,
    });
  }
}

/** Checks the shape of a single-image manifest (untrusted JSON). */
export function checkManifest(m: Manifest, what: string): void {
  const bad = (why: string) => new KbError("MANIFEST_INVALID", `Cannot use ${what}: ${why}`, { hint: "the image is corrupt or not an image manifest" });
  if (m.schemaVersion !== 2) throw bad(`schemaVersion is "${String(m.schemaVersion)}", not 2`);
  if (m.mediaType !== undefined && !isManifestMediaType(m.mediaType)) throw bad(`media type "${m.mediaType}" is not an image manifest`);
  const checkDesc = (d: Descriptor | undefined, name: string) => {
    if (!d || typeof d !== "object" || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0 || typeof d.mediaType !== "string") {
      throw bad(`${name} is not a valid descriptor`);
    }
  };
  checkDesc(m.config, "config");
  if (!Array.isArray(m.layers)) throw bad("layers is not a list");
  m.layers.forEach((l, i) => checkDesc(l, `layer ${i}`));
}

/**
 * The Image whose manifest bytes are given, with config and layers from `source`.
 * Checks the manifest shape and that the config lists one diffID per layer.
 */
export async function imageFromBlobs(source: BlobSource, manifestBytes: Uint8Array, signal?: AbortSignal): Promise<Image> {
  const manifest = parseJson<Manifest>(manifestBytes, "an image manifest");
  checkManifest(manifest, "an image manifest");
  const configBytes = await readBlobBytes(source, manifest.config.digest, signal);
  const config = parseJson<{ rootfs?: { diff_ids?: unknown[] } }>(configBytes, `image config "${manifest.config.digest}"`);
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length || !diffIds.every(isDigest)) {
    throw new KbError("MANIFEST_INVALID", `Cannot use image config "${manifest.config.digest}": rootfs.diff_ids does not list one digest per layer (${manifest.layers.length})`, {
      hint: "the image is corrupt",
    });
  }
  const layers = manifest.layers.map((d, i) => blobLayer(source, d, diffIds[i] as Digest));
  return imageFromParts({ manifestBytes, configBytes, layers });
}

/**
 * The image whose manifest is stored under `manifestDigest`.
 * @example const img = await storeImage(store, "sha256:…")
 */
export async function storeImage(store: BlobStore, manifestDigest: Digest, signal?: AbortSignal): Promise<Image> {
  return imageFromBlobs(store, await readBlobBytes(store, manifestDigest, signal), signal);
}

/**
 * Copies an image's blobs (layers, config, manifest) into the store, verified; returns the manifest digest.
 * Blobs already present are skipped.
 */
export async function putImage(store: BlobStore, img: Image, signal?: AbortSignal): Promise<Digest> {
  for (const layer of await img.layers()) {
    const d = await layer.digest();
    if (await store.has(d)) continue;
    await store.put(await layer.compressed(signal), { expected: d, size: await layer.size(), signal });
  }
  const m = await img.manifest();
  await store.putBytes(await img.rawConfig(), m.config.digest);
  const { digest } = await store.putBytes(await img.rawManifest(), await img.digest());
  return digest;
}
