// docker-archive: `docker save` tarballs (manifest.json + repositories, plus an OCI layout inside, as Docker 25+ writes).
// Layers stay compressed as stored: docker load and skopeo decompress them (docs/decisions/052-docker-archive-layout.md).

import { dirname, basename, join } from "node:path";
import { existsSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { isKbError, KbError } from "../errors.ts";
import { dockerLayerType, imageFromParts } from "../image/assemble.ts";
import { assembleIndex } from "../image/assemble-index.ts";
import type { Image } from "../image/image.ts";
import { parseReference } from "../image/reference.ts";
import { isDigest, MediaType, type Descriptor, type Digest, type Manifest } from "../image/types.ts";
import { createTarStream, detectCompression, LAYER_MEDIA_TYPE, type TarInput } from "../layer/index.ts";
import { digestOfStream, sha256Digest, verifyingTransform } from "../image/digest.ts";
import { fileStream, readAllBytes, writeStreamTo } from "../store/file-stream.ts";
import { blobLayer, checkManifest, parseJson, type BlobSource } from "../store/store-image.ts";
import type { FileFormat } from "./output.ts";
import { REF_NAME } from "./oci-layout.ts";
import { indexTar, safeMemberName, type TarSpan } from "./_tar-index.ts";

/** One entry of a docker-archive's manifest.json. */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** Options of {@link writeDockerArchive}. */
export interface WriteDockerArchiveOptions {
  /** Full references ("example.com/app:v1") listed as RepoTags. */
  tags: string[];
  signal?: AbortSignal;
}

const utf8 = new TextEncoder();
const blobPath = (d: Digest) => `blobs/sha256/${d.slice(7)}`;
const meta = (path: string, size: number, type: "file" | "dir" = "file") => ({ path, type, mode: type === "dir" ? 0o755 : 0o644, uid: 0, gid: 0, size, mtime: 0 });
const bytesEntry = (path: string, bytes: Uint8Array): TarInput => ({ entry: meta(path, bytes.byteLength), body: bytes });

/** The archive's members in order: directories, layer blobs (streamed, verified), config, manifest, then the indexes. */
async function* members(img: Image, tags: string[], signal?: AbortSignal): AsyncGenerator<TarInput> {
  yield { entry: meta("blobs", 0, "dir") };
  yield { entry: meta("blobs/sha256", 0, "dir") };
  const manifest = await img.manifest();
  const written = new Set<Digest>();
  for (const layer of await img.layers()) {
    const [d, size] = [await layer.digest(), await layer.size()];
    if (written.has(d)) continue;
    written.add(d);
    yield { entry: meta(blobPath(d), size), body: (await layer.compressed(signal)).pipeThrough(verifyingTransform(d, size, "layer")) };
  }
  const rawConfig = await img.rawConfig();
  yield bytesEntry(blobPath(manifest.config.digest), rawConfig);
  const raw = await img.rawManifest();
  const digest = await img.digest();
  yield bytesEntry(blobPath(digest), raw);
  yield bytesEntry("oci-layout", utf8.encode('{"imageLayoutVersion":"1.0.0"}'));
  const desc: Descriptor = { mediaType: await img.mediaType(), digest, size: raw.byteLength };
  const entries = (tags.length ? tags : [undefined]).map((t) => (t ? { ...desc, annotations: { "io.containerd.image.name": t, [REF_NAME]: t.replace(/^.*:/, "") } } : desc));
  yield bytesEntry("index.json", await assembleIndex(entries.map((descriptor) => ({ descriptor })), { mediaType: MediaType.OciIndex }).rawManifest());
  const entry: DockerArchiveEntry = { Config: blobPath(manifest.config.digest), RepoTags: tags, Layers: manifest.layers.map((l) => blobPath(l.digest)) };
  yield bytesEntry("manifest.json", utf8.encode(JSON.stringify([entry])));
  const repos: Record<string, Record<string, string>> = {};
  const top = manifest.layers.at(-1)?.digest.slice(7) ?? manifest.config.digest.slice(7);
  for (const t of tags) {
    const at = t.lastIndexOf(":");
    if (at > t.lastIndexOf("/")) (repos[t.slice(0, at)] ??= {})[t.slice(at + 1)] = top;
  }
  yield bytesEntry("repositories", utf8.encode(JSON.stringify(repos)));
}

/**
 * Writes `img` as a docker-archive tarball at `file` (streamed to a temp file beside it, renamed when complete).
 * @example await writeDockerArchive("app.tar", img, { tags: ["example.com/app:v1"] }) // docker load -i app.tar
 */
export async function writeDockerArchive(file: string, img: Image, opts: WriteDockerArchiveOptions): Promise<Descriptor> {
  for (const t of opts.tags) if (!t || /[\s\x00-\x1f]/.test(t)) throw new KbError("USAGE", `Cannot use tag "${t}" in a docker-archive: empty or has spaces`);
  await mkdir(dirname(file), { recursive: true });
  const temp = join(dirname(file), `.${basename(file)}.kb-tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  let done = false;
  try {
    const fh = await open(temp, "wx", 0o644);
    try {
      await writeStreamTo(createTarStream(members(img, opts.tags, opts.signal)), fh, opts.signal);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
    done = true;
    return { mediaType: await img.mediaType(), digest: await img.digest(), size: (await img.rawManifest()).byteLength };
  } catch (e) {
    if (e instanceof KbError) throw e;
    throw new KbError("OUTPUT", `Cannot write docker-archive "${file}": ${(e as Error).message}`, { cause: e, hint: "check that the folder is writable" });
  } finally {
    if (!done) await unlink(temp).catch(() => {});
  }
}

/**
 * The image a docker archive holds under `tag` (or its only one). RepoTags are "example/bb:1" (docker save) or
 * "docker.io/example/bb:1" (skopeo): either spelling of the tag finds it.
 */
export async function readDockerArchiveTag(file: string, tag: string | undefined, signal?: AbortSignal): Promise<Image> {
  if (!existsSync(file)) throw new KbError("USAGE", `Cannot read docker-archive "${file}": no such file`, { hint: "check the path after docker-archive:" });
  if (tag === undefined) return readDockerArchive(file, { signal });
  const spellings = [tag];
  try {
    const full = parseReference(tag).toString();
    spellings.push(full, full.replace(/^docker\.io\/(library\/)?/, ""));
  } catch {
    // not a reference: only the literal tag can match
  }
  let first: unknown;
  for (const t of new Set(spellings)) {
    try {
      return await readDockerArchive(file, { tag: t, signal });
    } catch (e) {
      if (!isKbError(e, "USAGE")) throw e;
      first ??= e;
    }
  }
  throw first;
}

/** Options of {@link readDockerArchive}. */
export interface ReadDockerArchiveOptions {
  /** Which RepoTag to read when the archive holds several images. */
  tag?: string;
  signal?: AbortSignal;
}

/** A stored layer's media type from its first bytes: Docker's name where Docker has one (zstd: OCI's). */
function sniffLayerType(head: Uint8Array): string {
  const kind = detectCompression(head);
  const oci = kind in LAYER_MEDIA_TYPE ? LAYER_MEDIA_TYPE[kind as keyof typeof LAYER_MEDIA_TYPE] : MediaType.OciLayer;
  return dockerLayerType(oci) ?? oci;
}

/**
 * Reads an image from a docker-archive (docker save, skopeo, kb, ggcr tarball). Indexes the tar once;
 * every blob is then read by offset and verified while it streams. Layers keep their stored bytes: an
 * uncompressed layer gets a tar media type, and its digest is its diffID.
 * @example const img = await readDockerArchive("app.tar")
 */
export async function readDockerArchive(file: string, opts: ReadDockerArchiveOptions = {}): Promise<Image> {
  const spans = await indexTar(file);
  const bad = (why: string) => new KbError("MANIFEST_INVALID", `Cannot read docker-archive "${file}": ${why}`, { hint: "the archive is corrupt or not from docker save" });
  const span = (name: string) => {
    const s = spans.get(safeMemberName(name, file));
    if (!s) throw bad(`member "${name}" is missing`);
    return s;
  };
  const whole = async (name: string) => {
    const s = span(name);
    return readAllBytes(await fileStream(file, { start: s.offset, length: s.size, signal: opts.signal }));
  };
  const entries = parseJson<DockerArchiveEntry[]>(await whole("manifest.json"), `"${file}" manifest.json`, "array");
  if (entries.length === 0 || !entries.every((e) => e && typeof e === "object")) throw bad("manifest.json is not a list of images");
  const chosen = opts.tag ? entries.find((e) => e.RepoTags?.includes(opts.tag!)) : entries.length === 1 ? entries[0] : undefined;
  if (!chosen) throw new KbError("USAGE", `Cannot choose an image in docker-archive "${file}": ${opts.tag ? `no "${opts.tag}"` : `it holds ${entries.length}`}`, { hint: `tags there: ${entries.flatMap((e) => e.RepoTags ?? []).join(", ") || "none"}` });
  if (typeof chosen.Config !== "string" || !Array.isArray(chosen.Layers) || !chosen.Layers.every((l) => typeof l === "string")) throw bad("a manifest.json entry lacks Config or Layers");

  const configBytes = await whole(chosen.Config);
  const configDigest = sha256Digest(configBytes);
  const named = /([a-f0-9]{64})(\.json)?$/.exec(chosen.Config);
  if (named && named[1] !== configDigest.slice(7)) throw bad(`config "${chosen.Config}" hashes to "${configDigest}"`);
  const config = parseJson<{ rootfs?: { diff_ids?: unknown[] } }>(configBytes, `config "${chosen.Config}"`);
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== chosen.Layers.length || !diffIds.every(isDigest)) throw bad("config rootfs.diff_ids does not match Layers");

  const byDigest = new Map<Digest, TarSpan>();
  const descs: Descriptor[] = [];
  for (const [i, path] of chosen.Layers.entries()) {
    const s = span(path);
    const head = await readAllBytes(await fileStream(file, { start: s.offset, length: Math.min(4, s.size) }));
    const mediaType = sniffLayerType(head);
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(safeMemberName(path, file));
    let digest: Digest;
    if (m) digest = `sha256:${m[1]}`;
    else if (mediaType.endsWith(".tar")) digest = diffIds[i] as Digest;
    else digest = (await digestOfStream(await fileStream(file, { start: s.offset, length: s.size, signal: opts.signal }))).digest;
    byDigest.set(digest, s);
    descs.push({ mediaType, size: s.size, digest });
  }
  const source: BlobSource = {
    async open(d, signal) {
      const s = byDigest.get(d);
      if (!s) throw bad(`no blob "${d}"`);
      return (await fileStream(file, { start: s.offset, length: s.size, signal })).pipeThrough(verifyingTransform(d, s.size, `layer in "${file}"`));
    },
  };
  const layers = descs.map((d, i) => blobLayer(source, d, diffIds[i] as Digest));
  const kept = await ociManifestInside(file, spans, whole, configDigest, descs);
  if (kept) return imageFromParts({ manifestBytes: kept, configBytes, layers: layersOf(kept, source, diffIds as Digest[]) });
  const oci = descs.some((d) => d.mediaType === MediaType.OciLayerZstd);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: oci ? MediaType.OciManifest : MediaType.DockerManifest,
    config: { mediaType: oci ? MediaType.OciConfig : MediaType.DockerConfig, size: configBytes.byteLength, digest: configDigest },
    layers: descs,
  };
  checkManifest(manifest, `docker-archive "${file}"`);
  return imageFromParts({ manifestBytes: utf8.encode(JSON.stringify(manifest)), configBytes, layers });
}

/**
 * Docker 25+ and kb also store the image manifest (an OCI layout inside the archive): when index.json names a
 * manifest with this config and these layer digests, its exact bytes are kept, so the image digest survives.
 */
async function ociManifestInside(file: string, spans: Map<string, TarSpan>, whole: (n: string) => Promise<Uint8Array>, config: Digest, descs: Descriptor[]): Promise<Uint8Array | undefined> {
  if (!spans.has("index.json")) return undefined;
  const index = parseJson<{ manifests?: Array<{ digest?: unknown }> }>(await whole("index.json"), `"${file}" index.json`);
  for (const m of Array.isArray(index.manifests) ? index.manifests : []) {
    if (!isDigest(m?.digest) || !spans.has(blobPath(m.digest))) continue;
    const bytes = await whole(blobPath(m.digest));
    if (sha256Digest(bytes) !== m.digest) continue;
    const manifest = parseJson<Manifest>(bytes, `manifest "${m.digest}"`);
    if (manifest.config?.digest !== config || !Array.isArray(manifest.layers) || manifest.layers.length !== descs.length) continue;
    if (manifest.layers.every((l, i) => l?.digest === descs[i].digest && l.size === descs[i].size)) {
      checkManifest(manifest, `manifest "${m.digest}" in "${file}"`);
      return bytes;
    }
  }
  return undefined;
}

/** Layers described by a kept manifest (its media types, which may differ from the sniffed ones). */
function layersOf(manifestBytes: Uint8Array, source: BlobSource, diffIds: Digest[]) {
  const m = JSON.parse(new TextDecoder().decode(manifestBytes)) as Manifest;
  return m.layers.map((d, i) => blobLayer(source, d, diffIds[i]));
}

/** docker-archive as a file format: RepoTags are full references; no writeIndex, since it holds one image per tag. */
export const dockerArchive: FileFormat = {
  title: "docker archive",
  transport: "docker-archive",
  tagIsReference: true,
  flag: "--tar-path",
  destHint: "FILE.tar",
  holds: "one image per tag",
  sink: (dest) => ({ write: (img, opts) => writeDockerArchive(dest, img, opts) }),
  source: (dest) => ({ read: (ref, opts) => readDockerArchiveTag(dest, ref, opts?.signal) }),
  buildTags: (tag, refs) => (tag ? [tag] : refs.map((r) => r.toString())),
};
