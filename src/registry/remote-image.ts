// Pulling: manifests (verified, capped), platform selection from indexes, and lazy registry-backed images.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests

import { KbError } from "../errors.ts";
import { imageForPlatform, indexFromParts, isImageIndex } from "../image/assemble-index.ts";
import type { Image, ImageIndex, Layer } from "../image/image.ts";
import { hostPlatform } from "../image/platform.ts";
import { manifestReference, withDigest, type Reference } from "../image/reference.ts";
import { isIndexMediaType, type Digest, type ImageConfig, type Index, type Manifest, type Platform } from "../image/types.ts";
import { MANIFEST_ACCEPT, parseManifestDocument } from "./_manifest.ts";
import { fetchBlob, RemoteLayer } from "./_remote-layer.ts";
import { sha256Digest } from "../image/digest.ts";
import { readBounded } from "./_verify.ts";
import type { RegistryClient } from "./client.ts";
import { IDLE_HINT, IdleTimeoutError } from "./idle-body.ts";

/** Largest manifest kb reads (the distribution spec's SHOULD-handle size). */
export const MANIFEST_CAP = 4 * 1024 * 1024;
/** Largest image config kb reads. */
export const CONFIG_CAP = 32 * 1024 * 1024;

/** A manifest or index exactly as served. */
export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  digest: Digest;
}

/**
 * GETs a manifest, capped at 4 MiB, checked against a pinned digest (or Docker-Content-Digest), with its
 * media type decided and the document validated.
 * @throws KbError MANIFEST_INVALID, BLOB_DIGEST_MISMATCH, REGISTRY_NOT_FOUND, REGISTRY_UNAUTHORIZED
 */
export async function fetchManifest(client: RegistryClient, ref: Reference, accept: string[] = MANIFEST_ACCEPT, signal?: AbortSignal, attempt?: number): Promise<FetchedManifest> {
  const subject = ref.toString();
  const { res } = await client.request({
    registry: ref.registry,
    repository: ref.repository,
    method: "GET",
    path: `/v2/${ref.repository}/manifests/${manifestReference(ref)}`,
    headers: { Accept: accept.join(", ") },
    action: "pull manifest",
    subject,
    signal,
    mirrors: true,
  });
  const tooBig = () =>
    new KbError("MANIFEST_INVALID", `Cannot read manifest of "${subject}": it is larger than ${MANIFEST_CAP} bytes`, {
      hint: "Registries and clients only have to handle manifests up to 4 MiB",
    });
  if (Number(res.headers.get("content-length") ?? 0) > MANIFEST_CAP) {
    await res.body?.cancel().catch(() => {});
    throw tooBig();
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(res.body, MANIFEST_CAP, tooBig);
  } catch (e) {
    // The connection broke mid-body (the request itself was retried by the client): ask again, boundedly.
    if (e instanceof KbError || signal?.aborted) throw e;
    if ((attempt ?? 0) >= client.retries)
      throw new KbError("REGISTRY", `Cannot pull manifest of "${subject}": ${e instanceof IdleTimeoutError ? e.message : "the connection broke while reading it"}, ${client.retries} retries tried`, {
        hint: e instanceof IdleTimeoutError ? IDLE_HINT : "The registry or the network drops connections; retry later",
        temporary: true,
        cause: e,
      });
    return fetchManifest(client, ref, accept, signal, (attempt ?? 0) + 1);
  }
  const digest = sha256Digest(bytes);
  const header = res.headers.get("docker-content-digest");
  const expected = ref.digest ?? (header?.startsWith("sha256:") ? header : undefined);
  if (expected && expected !== digest)
    throw new KbError("BLOB_DIGEST_MISMATCH", `Cannot verify manifest of "${subject}": its content hashes to "${digest}", expected "${expected}"`, {
      hint: "The registry served a different manifest than the digest names; the registry or a proxy is corrupt",
    });
  const { mediaType } = parseManifestDocument(subject, bytes, res.headers.get("content-type"));
  return { bytes, mediaType, digest };
}

/** A multi-platform index (or a single manifest, when the reference names one). */
export interface ResolvedIndex extends FetchedManifest {
  index?: Index;
  manifest?: Manifest;
}

/** Fetches what a reference names and parses it, for listing platforms. */
export async function resolveIndex(client: RegistryClient, ref: Reference, signal?: AbortSignal): Promise<ResolvedIndex> {
  const m = await fetchManifest(client, ref, MANIFEST_ACCEPT, signal);
  const { doc } = parseManifestDocument(ref.toString(), m.bytes, m.mediaType);
  return isIndexMediaType(m.mediaType) ? { ...m, index: doc as Index } : { ...m, manifest: doc as Manifest };
}

/**
 * Reads what a reference names: an Image, or an ImageIndex whose entries (by digest, in the same repository)
 * open lazily, manifests only. Nothing but the top manifest is fetched until asked.
 */
export async function readRemote(client: RegistryClient, ref: Reference, signal?: AbortSignal): Promise<Image | ImageIndex> {
  const m = await fetchManifest(client, ref, MANIFEST_ACCEPT, signal);
  if (!isIndexMediaType(m.mediaType)) return new RemoteImage(client, ref, m);
  parseManifestDocument(ref.toString(), m.bytes, m.mediaType);
  const entry = async (d: Digest) => readRemote(client, withDigest(ref, d), signal);
  return indexFromParts({
    bytes: m.bytes,
    mediaType: m.mediaType,
    image: async (d) => {
      const x = await entry(d);
      if (isImageIndex(x)) throw new KbError("MANIFEST_INVALID", `Cannot read "${withDigest(ref, d)}" as an image: it is an index`);
      return x;
    },
    index: async (d) => {
      const x = await entry(d);
      if (!isImageIndex(x)) throw new KbError("MANIFEST_INVALID", `Cannot read "${withDigest(ref, d)}" as an index: it is an image`);
      return x;
    },
  }, `"${ref}"`);
}

/**
 * Resolves a reference to one single-platform image, picking `platform` from an index (see selectPlatform).
 * Layers are lazy: nothing but manifests is fetched until a layer is read; the config on first use.
 * @default platform hostPlatform()
 */
export async function resolveImage(client: RegistryClient, ref: Reference, platform: Platform = hostPlatform(), signal?: AbortSignal): Promise<Image> {
  return imageForPlatform(await readRemote(client, ref, signal), platform, `"${ref}"`);
}

/** An image in a registry; manifest bytes held, config fetched once, layers lazy. */
export class RemoteImage implements Image {
  readonly #manifest: Manifest;
  #config?: Promise<Uint8Array>;
  #layers?: Promise<Layer[]>;
  constructor(
    private client: RegistryClient,
    /** The repository (pinned by digest) the image was read from. */
    readonly ref: Reference,
    private fetched: FetchedManifest,
  ) {
    this.#manifest = parseManifestDocument(ref.toString(), fetched.bytes, fetched.mediaType).doc as Manifest;
  }
  /** "registry/repository" holding this image's blobs (Image.sourceRepository). */
  get sourceRepository(): string {
    return this.ref.name();
  }
  rawManifest = async () => this.fetched.bytes;
  manifest = async () => this.#manifest;
  digest = async () => this.fetched.digest;
  mediaType = async () => this.fetched.mediaType;
  rawConfig(): Promise<Uint8Array> {
    this.#config ??= (async () => {
      const d = this.#manifest.config;
      if (d.size > CONFIG_CAP) throw new KbError("MANIFEST_INVALID", `Cannot read config of "${this.ref}": it declares ${d.size} bytes (cap ${CONFIG_CAP})`);
      const body = await fetchBlob(this.client, this.ref, d);
      return readBounded(body, CONFIG_CAP, () => new KbError("MANIFEST_INVALID", `Cannot read config of "${this.ref}": it is too large`));
    })();
    this.#config.catch(() => (this.#config = undefined));
    return this.#config;
  }
  async config(): Promise<ImageConfig> {
    const raw = await this.rawConfig();
    try {
      const c = JSON.parse(new TextDecoder().decode(raw)) as ImageConfig;
      if (!c || typeof c !== "object") throw new Error("not an object");
      return c;
    } catch (e) {
      throw new KbError("MANIFEST_INVALID", `Cannot read config of "${this.ref}": invalid JSON (${(e as Error).message.slice(0, 100)})`);
    }
  }
  layers(): Promise<Layer[]> {
    this.#layers ??= Promise.resolve(
      this.#manifest.layers.map(
        (d, i) =>
          new RemoteLayer(this.client, this.ref, d, async () => {
            const id = (await this.config()).rootfs?.diff_ids?.[i];
            if (!id) throw new KbError("MANIFEST_INVALID", `Cannot read diffID ${i} of "${this.ref}": the config's rootfs.diff_ids is too short`);
            return id;
          }),
      ),
    );
    return this.#layers;
  }
  async layerByDigest(d: Digest): Promise<Layer> {
    const layers = await this.layers();
    const cfg = this.#manifest.layers.findIndex((l) => l.digest === d);
    if (cfg >= 0) return layers[cfg];
    const ids = (await this.config()).rootfs?.diff_ids ?? [];
    const i = ids.indexOf(d);
    if (i >= 0 && layers[i]) return layers[i];
    throw new KbError("REGISTRY_NOT_FOUND", `Cannot find layer "${d}" in "${this.ref}"`);
  }
}
