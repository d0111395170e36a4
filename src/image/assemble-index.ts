// Image indexes: assembled from images (or known descriptors), or over bytes already stored. assembleIndex is the
// only producer of index bytes in kb: builds, attestations, `kb pull --platform all` and `kb index create` use it.

import { KbError } from "../errors.ts";
import { sha256Digest } from "./digest.ts";
import type { Image, ImageIndex } from "./image.ts";
import { selectPlatform } from "./platform.ts";
import { isIndexMediaType, MediaType, type Descriptor, type Digest, type Index, type Platform } from "./types.ts";

/** One entry of an index: an image (described from its manifest and config), or a descriptor already known. */
export type IndexEntry =
  | { image: Image; annotations?: Record<string, string> }
  | { descriptor: Descriptor; image?: () => Promise<Image> };

/** True for an ImageIndex, false for an Image (what an ImageSource read). */
export function isImageIndex(x: Image | ImageIndex): x is ImageIndex {
  return !("layers" in x);
}

/** An image's descriptor in an index: media type, digest, size, and the platform its config names. */
export async function describeImage(img: Image): Promise<Descriptor> {
  const config = await img.config();
  const raw = await img.rawManifest();
  const platform = { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) };
  return { mediaType: await img.mediaType(), digest: await img.digest(), size: raw.length, platform };
}

/** Parts of an index whose bytes are already known. */
export interface IndexParts {
  bytes: Uint8Array;
  /** Decided by whoever read the bytes (a Content-Type); else the document's. */
  mediaType?: string;
  image(d: Digest): Promise<Image>;
  index?(d: Digest): Promise<ImageIndex>;
}

/**
 * An ImageIndex over known bytes. Parses once; `where` names it in errors.
 * @example const idx = indexFromParts({ bytes, image: (d) => readOciLayout(dir, d) }, `OCI layout "${dir}"`)
 */
export function indexFromParts(parts: IndexParts, where = "image index"): ImageIndex {
  let doc: Index;
  try {
    doc = JSON.parse(new TextDecoder().decode(parts.bytes)) as Index;
  } catch (e) {
    throw new KbError("MANIFEST_INVALID", `Cannot parse ${where}: ${(e as Error).message}`, { cause: e });
  }
  if (!doc || !Array.isArray(doc.manifests)) throw new KbError("MANIFEST_INVALID", `Cannot use ${where}: not an image index (no manifests list)`);
  const digest = sha256Digest(parts.bytes);
  const mediaType = parts.mediaType ?? doc.mediaType ?? MediaType.OciIndex;
  const out: ImageIndex = {
    rawManifest: async () => parts.bytes,
    manifest: async () => structuredClone(doc),
    digest: async () => digest,
    mediaType: async () => mediaType,
    manifests: async () => structuredClone(doc.manifests),
    image: (d) => parts.image(d),
  };
  if (parts.index) out.index = (d) => parts.index!(d);
  return out;
}

/**
 * Assembles an index over images (each described from its config, with its annotations) or known descriptors,
 * in order: an OCI image index, or a Docker manifest list when every entry is a Docker manifest (unless
 * `opts.mediaType` asks for an OCI index whatever the entries). Lazy, once.
 * @example const idx = assembleIndex([{ image: amd64 }, { image: arm64 }]); await sink.writeIndex(idx, { tags })
 */
export function assembleIndex(entries: IndexEntry[], opts: { mediaType?: typeof MediaType.OciIndex } = {}): ImageIndex {
  let built: Promise<ImageIndex> | undefined;
  const build = async (): Promise<ImageIndex> => {
    const opened = new Map<Digest, () => Promise<Image>>();
    const manifests: Descriptor[] = [];
    for (const e of entries) {
      if ("descriptor" in e) {
        manifests.push(e.descriptor);
        if (e.image) opened.set(e.descriptor.digest, e.image);
        continue;
      }
      const d = await describeImage(e.image);
      manifests.push(e.annotations ? { ...d, annotations: e.annotations } : d);
      opened.set(d.digest, async () => e.image);
    }
    const docker = !opts.mediaType && manifests.every((m) => m.mediaType === MediaType.DockerManifest);
    const mediaType = docker ? MediaType.DockerManifestList : MediaType.OciIndex;
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
    return indexFromParts({
      bytes,
      mediaType,
      image: async (d) => {
        const open = opened.get(d);
        if (!open) throw new KbError("MANIFEST_INVALID", `Cannot open image "${d}": the index does not hold it here`);
        return open();
      },
    });
  };
  const get = () => (built ??= build());
  return {
    rawManifest: async () => (await get()).rawManifest(),
    manifest: async () => (await get()).manifest(),
    digest: async () => (await get()).digest(),
    mediaType: async () => (await get()).mediaType(),
    manifests: async () => (await get()).manifests(),
    image: async (d) => (await get()).image(d),
  };
}

/** The entries an index copied whole carries: images and attestation manifests (nested indexes left out). */
export async function imageEntries(index: ImageIndex): Promise<Descriptor[]> {
  return (await index.manifests()).filter((d) => !isIndexMediaType(d.mediaType));
}

/**
 * The single-platform image of what a source read: the image itself, or the entry of the index (nested up to
 * 3 deep) that {@link selectPlatform} picks for `want`.
 */
export async function imageForPlatform(x: Image | ImageIndex, want: Platform | undefined, where: string): Promise<Image> {
  for (let depth = 0; isImageIndex(x); depth++) {
    if (depth >= 3) throw new KbError("MANIFEST_INVALID", `Cannot resolve ${where}: indexes nest deeper than 3 levels`);
    const pick = selectPlatform(await x.manifests(), want, where);
    if (!isIndexMediaType(pick.mediaType)) return x.image(pick.digest);
    if (!x.index) throw new KbError("MANIFEST_INVALID", `Cannot resolve ${where}: it nests an index kb cannot open here`);
    x = await x.index(pick.digest);
  }
  return x;
}
