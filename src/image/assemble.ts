// Images built in memory: from manifest + config bytes and Layer objects, or assembled from a config and layers.
// Manifest bytes are JSON.stringify with a fixed key order (ggcr's struct order), so they are reproducible.

import { KbError } from "../errors.ts";
import { sha256Digest } from "./digest.ts";
import type { Image, Layer } from "./image.ts";
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Manifest } from "./types.ts";

const utf8 = new TextEncoder();

/** Parts of an image whose manifest and config bytes are already known. */
export interface ImageParts {
  manifestBytes: Uint8Array;
  configBytes: Uint8Array;
  /** In manifest order. */
  layers: Layer[];
}

/**
 * An Image over known bytes and layers. Parses the manifest and config once; checks nothing about the layers
 * (the reader that produced the parts verified them).
 * @example const img = imageFromParts({ manifestBytes, configBytes, layers })
 */
export function imageFromParts(parts: ImageParts): Image {
  let manifest: Manifest;
  let config: ImageConfig;
  try {
    manifest = JSON.parse(new TextDecoder().decode(parts.manifestBytes)) as Manifest;
    config = JSON.parse(new TextDecoder().decode(parts.configBytes)) as ImageConfig;
  } catch (e) {
    throw new KbError("MANIFEST_INVALID", `Cannot parse an image manifest or config: ${(e as Error).message}`, { cause: e });
  }
  const digest = sha256Digest(parts.manifestBytes);
  const mediaType = manifest.mediaType ?? MediaType.OciManifest;
  return {
    rawManifest: async () => parts.manifestBytes,
    manifest: async () => structuredClone(manifest),
    digest: async () => digest,
    mediaType: async () => mediaType,
    rawConfig: async () => parts.configBytes,
    config: async () => structuredClone(config),
    layers: async () => [...parts.layers],
    async layerByDigest(d: Digest) {
      for (const l of parts.layers) if ((await l.digest()) === d || (await l.diffId()) === d) return l;
      throw new KbError("MANIFEST_INVALID", `Cannot find layer "${d}": not in image "${digest}"`);
    },
  };
}

/** Options of {@link assembleImage}. */
export interface AssembleOptions {
  /** The config; its `rootfs.diff_ids` are replaced by the layers' diffIDs. */
  config: ImageConfig;
  /** Every layer, base first. */
  layers: Layer[];
  /** Which media-type family the manifest, config and layer descriptors use. */
  mediaTypes: "oci" | "docker";
  /** Manifest annotations (OCI only; ignored for docker). */
  annotations?: Record<string, string>;
}

const TO_DOCKER: Record<string, string> = {
  [MediaType.OciLayerGzip]: MediaType.DockerLayerGzip,
  [MediaType.OciLayer]: "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": MediaType.DockerLayerForeign,
};
const TO_OCI: Record<string, string> = Object.fromEntries(Object.entries(TO_DOCKER).map(([k, v]) => [v, k]));

/** The Docker name of an OCI layer media type, if Docker has one (zstd has none). */
export const dockerLayerType = (mt: string): string | undefined => TO_DOCKER[mt];

/** The layer media type in the chosen family (zstd has no Docker name: an error). */
export function layerMediaTypeFor(mt: string, family: "oci" | "docker"): string {
  if (family === "oci") return TO_OCI[mt] ?? mt;
  if (mt.includes("zstd")) {
    throw new KbError("MANIFEST_INVALID", `Cannot use layer type "${mt}" in a Docker manifest: zstd needs OCI media types`, {
      hint: "use OCI media types (the default) or gzip compression",
    });
  }
  return TO_DOCKER[mt] ?? mt;
}

/** A descriptor with ggcr's key order: mediaType, size, digest, urls, annotations, platform. */
export function orderedDescriptor(d: Descriptor): Descriptor {
  const out: Record<string, unknown> = { mediaType: d.mediaType, size: d.size, digest: d.digest };
  if (d.urls?.length) out.urls = d.urls;
  if (d.annotations && Object.keys(d.annotations).length) out.annotations = d.annotations;
  if (d.platform) out.platform = d.platform;
  if (d.artifactType) out.artifactType = d.artifactType;
  return out as unknown as Descriptor;
}

/** A layer seen through a different manifest media type (the blob is the same). */
function retyped(layer: Layer, mediaType: string): Layer {
  if (layer.mediaType === mediaType) return layer;
  return {
    digest: () => layer.digest(),
    diffId: () => layer.diffId(),
    size: () => layer.size(),
    mediaType,
    compressed: (s) => layer.compressed(s),
    uncompressed: (s) => layer.uncompressed(s),
    descriptor: async () => ({ ...(await layer.descriptor()), mediaType }),
  };
}

/**
 * Assembles an Image from a config and layers: computes config bytes, diffIDs and a deterministic manifest.
 * Lazy: nothing is computed until a method is called, then everything once.
 * @example const img = assembleImage({ config, layers, mediaTypes: "oci" }); await writeOciLayout(dir, img, { tag: "v1" })
 */
export function assembleImage(opts: AssembleOptions): Image {
  let built: Promise<Image> | undefined;
  const build = async (): Promise<Image> => {
    const oci = opts.mediaTypes === "oci";
    const layers = opts.layers.map((l) => retyped(l, layerMediaTypeFor(l.mediaType, opts.mediaTypes)));
    const diffIds = await Promise.all(layers.map((l) => l.diffId()));
    const config = { ...opts.config, rootfs: { type: "layers" as const, diff_ids: diffIds } };
    const configBytes = utf8.encode(JSON.stringify(config));
    const descriptors = await Promise.all(layers.map(async (l) => orderedDescriptor(await l.descriptor())));
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: oci ? MediaType.OciManifest : MediaType.DockerManifest,
      config: { mediaType: oci ? MediaType.OciConfig : MediaType.DockerConfig, size: configBytes.byteLength, digest: sha256Digest(configBytes) },
      layers: descriptors,
    };
    if (oci && opts.annotations && Object.keys(opts.annotations).length) manifest.annotations = opts.annotations;
    return imageFromParts({ manifestBytes: utf8.encode(JSON.stringify(manifest)), configBytes, layers });
  };
  const get = () => (built ??= build());
  return {
    rawManifest: async () => (await get()).rawManifest(),
    manifest: async () => (await get()).manifest(),
    digest: async () => (await get()).digest(),
    mediaType: async () => (await get()).mediaType(),
    rawConfig: async () => (await get()).rawConfig(),
    config: async () => (await get()).config(),
    layers: async () => (await get()).layers(),
    layerByDigest: async (d) => (await get()).layerByDigest(d),
  };
}
