// The contract every image output (sink) and input (source) implements: registry, OCI layout, docker-archive.

import type { Image } from "../image/image.ts";
import type { Descriptor, Platform } from "../image/types.ts";

/** Options of {@link ImageSink.write}. */
export interface SinkWriteOptions {
  /** Tags to record (an OCI layout keeps one ref.name per tag; a docker-archive lists them as RepoTags). */
  tags: string[];
  signal?: AbortSignal;
}

/**
 * Where an image goes. `write` streams every blob (never buffers a layer), verifies what it copies,
 * and publishes atomically (index.json/archive renamed into place last). Returns the manifest descriptor.
 */
export interface ImageSink {
  readonly name: "oci" | "docker" | "registry";
  write(img: Image, opts: SinkWriteOptions): Promise<Descriptor>;
  /** Writes a multi-platform image (an index over `images`), where the format can hold one. */
  writeIndex?(images: Image[], opts: SinkWriteOptions): Promise<Descriptor>;
}

/** Options of {@link ImageSource.read}. */
export interface SourceReadOptions {
  /** Platform to pick from an index. @default the host's */
  platform?: Platform | string;
  signal?: AbortSignal;
}

/** Where an image comes from. The returned Image verifies blob digests as they stream. */
export interface ImageSource {
  readonly name: "oci" | "docker" | "registry";
  /** `ref` is a tag or digest within the source (a layout's ref.name); optional when there is only one image. */
  read(ref: string | undefined, opts?: SourceReadOptions): Promise<Image>;
}

/** One file format: a sink and a source for a destination path. */
export interface FileFormat {
  sink(dest: string): ImageSink;
  source(dest: string): ImageSource;
}
