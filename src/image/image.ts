// The Image, ImageIndex and Layer interfaces, and the transport contract (ImageSink, ImageSource) every output and
// input implements: the registry (src/registry/sink.ts), the OCI layout and the docker archive (src/output/).

import type { Descriptor, Digest, ImageConfig, Index, Manifest } from "./types.ts";

/**
 * One layer of an image. Streams are fresh on each call; the caller must consume or cancel them.
 * Implementations never buffer a whole layer in memory. Digests are verified by whoever reads
 * the bytes from an untrusted place (the registry client, the blob store), not by the consumer.
 */
export interface Layer {
  /** Digest of the compressed blob (what the manifest names). */
  digest(): Promise<Digest>;
  /** Digest of the uncompressed tar (what the config's rootfs.diff_ids names). */
  diffId(): Promise<Digest>;
  /** Size in bytes of the compressed blob. */
  size(): Promise<number>;
  readonly mediaType: string;
  /** The blob exactly as stored or pushed. */
  compressed(signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** The tar stream, decompressed. */
  uncompressed(signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** Descriptor for the manifest. */
  descriptor(): Promise<Descriptor>;
  /**
   * A repository known to hold this blob ("registry/repository", e.g. "localhost:5000/library/busybox"):
   * a push to the same registry may mount it from there instead of uploading. Registry layers set it.
   */
  readonly sourceRepository?: string;
}

/** One single-platform image. */
export interface Image {
  /** Manifest bytes exactly as they will be pushed or were pulled (the digest is over these). */
  rawManifest(): Promise<Uint8Array>;
  manifest(): Promise<Manifest>;
  digest(): Promise<Digest>;
  mediaType(): Promise<string>;
  rawConfig(): Promise<Uint8Array>;
  config(): Promise<ImageConfig>;
  layers(): Promise<Layer[]>;
  /** A layer by its compressed digest (or its diffID), for outputs that copy blob by blob. */
  layerByDigest(d: Digest): Promise<Layer>;
  /** A repository known to hold this image's config blob (see Layer.sourceRepository). */
  readonly sourceRepository?: string;
}

/** A multi-platform image: an OCI image index or a Docker manifest list, over images it can open. */
export interface ImageIndex {
  /** Index bytes exactly as they will be pushed or were pulled (the digest is over these). */
  rawManifest(): Promise<Uint8Array>;
  manifest(): Promise<Index>;
  digest(): Promise<Digest>;
  mediaType(): Promise<string>;
  /** The entries, in order (images, attestation manifests, nested indexes). */
  manifests(): Promise<Descriptor[]>;
  /** The image an entry names, by its digest. */
  image(d: Digest): Promise<Image>;
  /** A nested index an entry names, where the source can read one. */
  index?(d: Digest): Promise<ImageIndex>;
}

/** Options of {@link ImageSink.write}. */
export interface SinkWriteOptions {
  /** Tags to record (an OCI layout keeps one ref.name per tag; a docker-archive lists them as RepoTags; a registry sink has its references). */
  tags: string[];
  signal?: AbortSignal;
}

/**
 * Where an image goes. `write` streams every blob (never buffers a layer), verifies what it copies,
 * and publishes atomically (index.json/archive renamed into place last). Returns the manifest descriptor.
 */
export interface ImageSink {
  write(img: Image, opts: SinkWriteOptions): Promise<Descriptor>;
  /** Writes a multi-platform image, byte for byte. Absent: the format cannot hold an index. */
  writeIndex?(index: ImageIndex, opts: SinkWriteOptions): Promise<Descriptor>;
}

/** Options of {@link ImageSource.read}. */
export interface SourceReadOptions {
  signal?: AbortSignal;
}

/** Where an image comes from. Images read verify blob digests as they stream; pick a platform with imageForPlatform. */
export interface ImageSource {
  /** `ref` is a tag or digest within the source (a layout's ref.name); optional when there is only one image. */
  read(ref: string | undefined, opts?: SourceReadOptions): Promise<Image | ImageIndex>;
}
