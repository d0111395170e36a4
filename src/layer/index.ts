// Layer module: streaming tar codec, compression, one-pass layer writing and safe extraction.

export type { TarEntry, TarEntryType } from "./tar-entry.ts";
export { createTarStream, encodeTarHeader, type TarInput } from "./tar.ts";
export { readTar, type ReadTarOptions, type TarMember } from "./untar.ts";
