// Pushing images and indexes: blobs first (skip, mount, stream), then the manifest under every tag.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#push

import { KbError } from "../errors.ts";
import type { Image, ImageIndex, Layer } from "../image/image.ts";
import { manifestReference, parseReference, withDigest, type Reference } from "../image/reference.ts";
import type { Digest } from "../image/types.ts";
import { runLimited, uploadBlob, type BlobSource, type UploadOutcome } from "./_upload.ts";
import { sha256Digest } from "../image/digest.ts";
import type { RegistryClient } from "./client.ts";
import { hasRegistryCode } from "./errors.ts";

/** Options of {@link pushImage}. */
export interface PushOptions {
  /** Blobs uploaded at once. @default 3 */
  concurrency?: number;
  /** Where a blob is known to live in the same registry (for a cross-repository mount). */
  mountFrom?: (d: Digest) => Reference | undefined;
  signal?: AbortSignal;
  /** Called once per blob with how it got there (tests and progress). */
  onBlob?: (d: Digest, outcome: UploadOutcome) => void;
}

/** What was pushed: the manifest digest and byte size. */
export interface PushResult {
  digest: Digest;
  size: number;
}

/** The repository a Layer's or Image's `sourceRepository` names (for a cross-repository mount), if it parses. */
export function sourceRepositoryOf(x: Layer | Image): Reference | undefined {
  if (!x.sourceRepository) return undefined;
  try {
    return parseReference(x.sourceRepository);
  } catch {
    return undefined;
  }
}

function bytesBlob(bytes: Uint8Array, digest: Digest): BlobSource {
  return {
    digest,
    size: bytes.length,
    open: async () => new ReadableStream({ start: (c) => (c.enqueue(bytes), c.close()) }),
  };
}

function groupByRepository(refs: Reference[]): Reference[][] {
  const m = new Map<string, Reference[]>();
  for (const r of refs) m.set(r.name(), [...(m.get(r.name()) ?? []), r]);
  return [...m.values()];
}

async function putManifest(client: RegistryClient, ref: Reference, bytes: Uint8Array, mediaType: string, digest: Digest, signal?: AbortSignal): Promise<void> {
  const { res } = await client.request({
    registry: ref.registry,
    repository: ref.repository,
    method: "PUT",
    path: `/v2/${ref.repository}/manifests/${manifestReference(ref)}`,
    headers: { "Content-Type": mediaType },
    body: bytes,
    push: true,
    action: "push manifest",
    subject: ref.toString(),
    accept: [201, 200, 202],
    signal,
  });
  await res.body?.cancel().catch(() => {});
  const got = res.headers.get("docker-content-digest");
  if (got && got.startsWith("sha256:") && got !== digest)
    throw new KbError("REGISTRY_PROTOCOL", `Cannot push manifest "${ref}": the registry stored digest "${got}", kb sent "${digest}"`, {
      hint: "The registry rewrote the manifest; it must store manifests byte for byte",
    });
}

/** Uploads the config and layer blobs of an image to one repository. */
async function pushBlobs(client: RegistryClient, repo: Reference, image: Image, opts: PushOptions): Promise<void> {
  const manifest = await image.manifest();
  const rawConfig = await image.rawConfig();
  const configDigest = sha256Digest(rawConfig);
  if (configDigest !== manifest.config.digest)
    throw new KbError("BLOB_DIGEST_MISMATCH", `Cannot push "${repo.name()}": the config hashes to "${configDigest}", the manifest names "${manifest.config.digest}"`);
  const layers = await image.layers();
  const blobs: BlobSource[] = [{ ...bytesBlob(rawConfig, configDigest), mountFrom: opts.mountFrom?.(configDigest) ?? sourceRepositoryOf(image) }];
  const seen = new Set<string>([configDigest]);
  for (const layer of layers) {
    const digest = await layer.digest();
    if (seen.has(digest)) continue;
    seen.add(digest);
    blobs.push({
      digest,
      size: await layer.size(),
      open: (signal) => layer.compressed(signal),
      mountFrom: opts.mountFrom?.(digest) ?? sourceRepositoryOf(layer),
    });
  }
  await runLimited(opts.concurrency ?? 3, blobs, async (b) => {
    const outcome = await uploadBlob(client, repo, b, opts.signal);
    opts.onBlob?.(b.digest, outcome);
  });
}

/**
 * Pushes an image to every reference (blobs once per repository, then the manifest per tag or digest).
 * @example await pushImage(client, [parseReference("localhost:5000/app:1")], image)
 */
export async function pushImage(client: RegistryClient, refs: Reference[], image: Image, opts: PushOptions = {}): Promise<PushResult> {
  if (refs.length === 0) throw new KbError("USAGE", "Cannot push an image: no destination reference given", { hint: "Pass --destination REF" });
  const bytes = await image.rawManifest();
  const digest = sha256Digest(bytes);
  const mediaType = await image.mediaType();
  for (const group of groupByRepository(refs)) {
    await pushBlobs(client, group[0], image, opts);
    for (const ref of group) {
      if (ref.digest && ref.digest !== digest)
        throw new KbError("USAGE", `Cannot push to "${ref}": the image's digest is "${digest}"`, { hint: "Push to a tag, or to the image's own digest" });
      // docker-registry's filesystem driver rewrites a blob link in place, so while another client pushes the
      // same blob a manifest check can briefly see it missing (MANIFEST_BLOB_UNKNOWN): check the blobs, try again.
      for (let attempt = 1; ; attempt++) {
        try {
          await putManifest(client, ref, bytes, mediaType, digest, opts.signal);
          break;
        } catch (e) {
          if (attempt >= 3 || !hasRegistryCode(e, "MANIFEST_BLOB_UNKNOWN")) throw e;
          await new Promise((r) => setTimeout(r, 200 * attempt));
          await pushBlobs(client, group[0], image, opts);
        }
      }
    }
  }
  return { digest, size: bytes.length };
}

/**
 * Pushes a multi-platform index byte for byte: `images` (those of its entries not already in each repository) by
 * digest first, then the index under every reference.
 */
export async function pushIndex(client: RegistryClient, refs: Reference[], index: ImageIndex, images: Image[], opts: PushOptions = {}): Promise<PushResult> {
  const bytes = await index.rawManifest();
  const digest = sha256Digest(bytes);
  const mediaType = await index.mediaType();
  for (const group of groupByRepository(refs)) {
    for (const image of images) await pushImage(client, [withDigest(group[0], await image.digest())], image, opts);
    for (const ref of group) await putManifest(client, ref, bytes, mediaType, digest, opts.signal);
  }
  return { digest, size: bytes.length };
}
