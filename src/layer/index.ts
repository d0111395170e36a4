// Layer module: streaming tar codec, compression, one-pass layer writing and safe extraction.

export type { TarEntry, TarEntryType } from "./tar-entry.ts";
export { createTarStream, encodeTarHeader, type TarInput } from "./tar.ts";
export { isTarHeader, readTar, type ReadTarOptions, type TarMember } from "./untar.ts";
export {
  COMPRESSION_ALGORITHMS, compressStream, decompressStream, detectCompression, DEFAULT_LEVEL, peekStream, LAYER_MEDIA_TYPE, LEVEL_RANGE,
  type Compression, type CompressionAlgorithm, type CompressOptions, type DetectedCompression,
} from "./compress.ts";
export { writeLayer, type WriteLayerOptions, type WrittenLayer } from "./write-layer.ts";
export type { MemberEntry, MemberReuse } from "./parallel-compress.ts";
export { MAX_MEMBER } from "./parallel-compress.ts";
export * from "./whiteout.ts";
export { extractTar, type ExtractOptions, type ExtractResult } from "./extract.ts";
export { removeOwnTree } from "./remove-own-tree.ts";
