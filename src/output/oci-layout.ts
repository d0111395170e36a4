// OCI image layout: write (append, replacing a tag) and read (tag, digest, nested indexes, platform selection).
// https://github.com/opencontainers/image-spec/blob/main/image-layout.md

import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { KbError } from "../errors.ts";
import { assembleIndex, describeImage, imageEntries, imageForPlatform, indexFromParts, isImageIndex } from "../image/assemble-index.ts";
import type { Image, ImageIndex, SourceReadOptions } from "../image/image.ts";
import { isDigest, isIndexMediaType, MediaType, type Descriptor, type Digest, type Index, type Platform } from "../image/types.ts";
import { openBlobDir } from "../store/blob-store.ts";
import { fileStream } from "../store/file-stream.ts";
import { verifyingTransform } from "../image/digest.ts";
import { withLock } from "../store/lock.ts";
import { imageFromBlobs, parseJson, readBlobBytes, type BlobSource } from "../store/store-image.ts";
import type { FileFormat } from "./output.ts";
import { hostPlatform, parsePlatform } from "../image/platform.ts";

/** The annotation that names a tag in index.json. */
export const REF_NAME = "org.opencontainers.image.ref.name";
const utf8 = new TextEncoder();

/** Options of {@link writeOciLayout}. */
export interface WriteOciLayoutOptions {
  /** Recorded as `org.opencontainers.image.ref.name`; an entry with the same tag is replaced. */
  tag?: string;
  signal?: AbortSignal;
  /** Index only: annotations of each image's descriptor (attestation manifests name their image so). */
  annotations?: (Record<string, string> | undefined)[];
}

function checkTag(tag: string): void {
  if (!tag || /[\s\x00-\x1f]/.test(tag)) throw new KbError("USAGE", `Cannot use tag "${tag}" in an OCI layout: empty or has spaces`);
}

async function readJsonFile<T>(path: string, what: string): Promise<T | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return parseJson<T>(bytes, what);
}

/** Copies the image's blobs (verified; present ones skipped) into `<dir>/blobs/sha256`; returns its descriptor. */
async function copyBlobs(dir: string, img: Image, signal?: AbortSignal): Promise<Descriptor> {
  const blobs = openBlobDir(join(dir, "blobs", "sha256"), dir, ".kb-tmp-");
  for (const layer of await img.layers()) {
    const [d, size] = [await layer.digest(), await layer.size()];
    if ((await blobs.stat(d))?.size === size) continue;
    await blobs.put(await layer.compressed(signal), { expected: d, size, signal });
  }
  const manifest = await img.manifest();
  await blobs.putBytes(await img.rawConfig(), manifest.config.digest);
  await blobs.putBytes(await img.rawManifest(), await img.digest());
  return describeImage(img);
}

/** Adds `entry` to index.json (replacing the same tag, or the same untagged digest), atomically, under a lock. */
async function publish(dir: string, desc: Descriptor, tag: string | undefined, signal?: AbortSignal): Promise<Descriptor> {
  const entry: Descriptor = tag ? { ...desc, annotations: { [REF_NAME]: tag } } : desc;
  await withLock(dir, "kb-index", async () => {
    const header = await readJsonFile<{ imageLayoutVersion?: unknown }>(join(dir, "oci-layout"), `"${dir}/oci-layout"`);
    if (header && typeof header.imageLayoutVersion !== "string") {
      throw new KbError("OUTPUT", `Cannot write to OCI layout "${dir}": its oci-layout file has no imageLayoutVersion`);
    }
    if (!header) await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const index = (await readJsonFile<Index>(join(dir, "index.json"), `"${dir}/index.json"`)) ?? { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    if (!Array.isArray(index.manifests)) throw new KbError("OUTPUT", `Cannot write to OCI layout "${dir}": index.json has no manifests list`);
    index.manifests = index.manifests.filter((m) => (tag ? m.annotations?.[REF_NAME] !== tag : !(m.digest === desc.digest && !m.annotations?.[REF_NAME])));
    index.manifests.push(entry);
    const temp = join(dir, `.kb-tmp-${process.pid}-index.json`);
    await writeFile(temp, utf8.encode(JSON.stringify(index)));
    await rename(temp, join(dir, "index.json")).catch(async (e) => {
      await unlink(temp).catch(() => {});
      throw e;
    });
  }, { signal });
  return entry;
}

async function asOutputError<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    return await fn();
  } catch (e) {
    if (e instanceof KbError) throw e;
    throw new KbError("OUTPUT", `Cannot write OCI layout "${dir}": ${(e as Error).message}`, { cause: e, hint: "check that the folder is writable" });
  }
}

/**
 * Writes `img` into the OCI layout at `dir` (created if needed; an existing layout is appended to).
 * Blobs are streamed and verified; index.json is replaced atomically last, under a lock in `dir`.
 * @example await writeOciLayout("out/", img, { tag: "v1" }) // then: skopeo inspect oci:out/:v1
 */
export async function writeOciLayout(dir: string, img: Image, opts: WriteOciLayoutOptions = {}): Promise<Descriptor> {
  if (opts.tag !== undefined) checkTag(opts.tag);
  return asOutputError(dir, async () => publish(dir, await copyBlobs(dir, img, opts.signal), opts.tag, opts.signal));
}

/**
 * Writes a multi-platform image, tagged as one entry of index.json: an index byte for byte, with the blobs of
 * every image it holds (nested indexes left out), or an OCI index assembled over `images` (platforms from their
 * configs, `opts.annotations` on their descriptors). A Docker manifest list is refused: an OCI layout holds OCI indexes.
 * @example await writeOciIndex("out/", [amd64, arm64], { tag: "v1" })
 */
export async function writeOciIndex(dir: string, images: Image[] | ImageIndex, opts: WriteOciLayoutOptions = {}): Promise<Descriptor> {
  if (opts.tag !== undefined) checkTag(opts.tag);
  const index = Array.isArray(images) ? assembleIndex(images.map((image, i) => ({ image, annotations: opts.annotations?.[i] })), { mediaType: MediaType.OciIndex }) : images;
  const mediaType = await index.mediaType();
  if (mediaType !== MediaType.OciIndex) throw new KbError("OUTPUT", `Cannot write OCI layout "${dir}": the images use Docker media types`, { hint: "build with OCI media types" });
  return asOutputError(dir, async () => {
    for (const d of await imageEntries(index)) await copyBlobs(dir, await index.image(d.digest), opts.signal);
    const blobs = openBlobDir(join(dir, "blobs", "sha256"), dir, ".kb-tmp-");
    const { digest, size } = await blobs.putBytes(await index.rawManifest());
    return publish(dir, { mediaType, digest, size }, opts.tag, opts.signal);
  });
}

/** A BlobSource over a layout's blobs that verifies every blob's digest while it streams. */
export function layoutBlobSource(dir: string): BlobSource {
  return {
    async open(d: Digest, signal?: AbortSignal) {
      if (!isDigest(d)) throw new KbError("MANIFEST_INVALID", `Cannot read blob "${String(d).slice(0, 80)}": not a sha256 digest`);
      try {
        return (await fileStream(join(dir, "blobs", "sha256", d.slice(7)), { signal })).pipeThrough(verifyingTransform(d, undefined, `blob in "${dir}"`));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        throw new KbError("MANIFEST_INVALID", `Cannot read blob "${d}": missing from OCI layout "${dir}"`, { hint: "the layout is incomplete; copy it again" });
      }
    },
  };
}

function checkIndex(index: Index, what: string): void {
  if (index.schemaVersion !== 2 || !Array.isArray(index.manifests) || !index.manifests.every((m) => m && isDigest(m.digest) && typeof m.mediaType === "string")) {
    throw new KbError("MANIFEST_INVALID", `Cannot use ${what}: not an image index (schemaVersion 2, manifests with digests)`, { hint: "the layout is corrupt" });
  }
}

/** What a descriptor names in the layout: an Image, or an ImageIndex whose entries open the same way. */
async function open(source: BlobSource, desc: Descriptor, where: string, signal?: AbortSignal): Promise<Image | ImageIndex> {
  const bytes = await readBlobBytes(source, desc.digest, signal);
  const doc = parseJson<Index & { layers?: unknown }>(bytes, `manifest "${desc.digest}"`);
  if (!(isIndexMediaType(desc.mediaType) || isIndexMediaType(doc.mediaType) || (Array.isArray(doc.manifests) && !doc.layers))) return imageFromBlobs(source, bytes, signal);
  checkIndex(doc, `index "${desc.digest}"`);
  const entry = (d: Digest) => doc.manifests.find((m) => m.digest === d) ?? { mediaType: MediaType.OciManifest, digest: d, size: -1 };
  const image = async (d: Digest) => {
    const x = await open(source, entry(d), where, signal);
    if (isImageIndex(x)) throw new KbError("MANIFEST_INVALID", `Cannot read ${where}: "${d}" is an index, not an image`);
    return x;
  };
  const index = async (d: Digest) => {
    const x = await open(source, entry(d), where, signal);
    if (!isImageIndex(x)) throw new KbError("MANIFEST_INVALID", `Cannot read ${where}: "${d}" is an image, not an index`);
    return x;
  };
  return indexFromParts({ bytes, mediaType: doc.mediaType ?? desc.mediaType, image, index }, `index "${desc.digest}"`);
}

/**
 * Reads what the OCI layout at `dir` names: by tag (ref.name), by manifest/index digest, or the only entry; an
 * Image, or an ImageIndex. Works on layouts written by kb, skopeo, umoci, buildah and docker save. Blobs are
 * verified as they stream.
 */
export async function readOciLayoutEntry(dir: string, tagOrDigest?: string, opts: SourceReadOptions = {}): Promise<Image | ImageIndex> {
  const index = await readJsonFile<Index>(join(dir, "index.json"), `"${dir}/index.json"`);
  if (!index) throw new KbError("MANIFEST_INVALID", `Cannot read OCI layout "${dir}": index.json is missing`, { hint: "point at the folder that holds oci-layout and index.json" });
  checkIndex(index, `"${dir}/index.json"`);
  const tags = index.manifests.map((m) => m.annotations?.[REF_NAME]).filter(Boolean);
  let entry: Descriptor | undefined;
  if (tagOrDigest === undefined) {
    if (index.manifests.length !== 1) {
      throw new KbError("USAGE", `Cannot choose an image in OCI layout "${dir}": it holds ${index.manifests.length}`, { hint: `name one: ${tags.map((t) => `"${t}"`).join(", ") || "by digest"}` });
    }
    entry = index.manifests[0];
  } else if (isDigest(tagOrDigest)) {
    entry = index.manifests.find((m) => m.digest === tagOrDigest) ?? { mediaType: MediaType.OciManifest, digest: tagOrDigest, size: -1 };
  } else {
    entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === tagOrDigest);
  }
  if (!entry) throw new KbError("REGISTRY_NOT_FOUND", `Cannot find "${tagOrDigest}" in OCI layout "${dir}"`, { hint: `tags there: ${tags.map((t) => `"${t}"`).join(", ") || "none"}` });
  return open(layoutBlobSource(dir), entry, `OCI layout "${dir}"`, opts.signal);
}

/**
 * Reads one image from the OCI layout at `dir` (see {@link readOciLayoutEntry}), its platform picked from an index.
 * @example const img = await readOciLayout("out/", "v1", { platform: "linux/amd64" })
 */
export async function readOciLayout(dir: string, tagOrDigest?: string, opts: SourceReadOptions & { platform?: Platform | string } = {}): Promise<Image> {
  const want = typeof opts.platform === "string" ? parsePlatform(opts.platform) : (opts.platform ?? hostPlatform());
  return imageForPlatform(await readOciLayoutEntry(dir, tagOrDigest, opts), want, `OCI layout "${dir}"`);
}

/** The OCI layout as a file format: one ref.name per tag; holds indexes. */
export const ociLayout: FileFormat = {
  title: "OCI layout",
  transport: "oci",
  tagIsReference: false,
  flag: "--oci-layout-path",
  destHint: "DIR",
  sink: (dest) => ({
    async write(img, opts) {
      let last: Descriptor | undefined;
      for (const tag of opts.tags.length ? opts.tags : [undefined]) last = await writeOciLayout(dest, img, { tag, signal: opts.signal });
      return last!;
    },
    async writeIndex(index, opts) {
      let last: Descriptor | undefined;
      for (const tag of opts.tags.length ? opts.tags : [undefined]) last = await writeOciIndex(dest, index, { tag, signal: opts.signal });
      return last!;
    },
  }),
  source: (dest) => ({
    read: (ref, opts) => {
      if (!existsSync(dest) || !statSync(dest).isDirectory()) throw new KbError("USAGE", `Cannot read OCI layout "${dest}": no such folder`, { hint: "point oci: at a folder holding oci-layout and index.json" });
      return readOciLayoutEntry(dest, ref, opts);
    },
  }),
  buildTags: (tag, refs) => [tag ?? refs[0]?.tag ?? "latest"],
};
