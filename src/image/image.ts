// The Image and Layer interfaces: every source (registry, OCI layout, docker archive, build) implements them.

import type { Descriptor, Digest, ImageConfig, Manifest } from "./types.ts";

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
