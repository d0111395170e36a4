// The snapshot stream: tar entries (with a lazy body for files) describing what one RUN changed.

import type { TarEntry } from "../layer/tar-entry.ts";

/** One change: a tar entry, and for files a body of exactly `entry.size` bytes, read lazily. */
export interface DiffEntry {
  entry: TarEntry;
  /** Opened on first read; the consumer must read or cancel it before asking for the next entry. */
  body?: ReadableStream<Uint8Array>;
}

/** Maps host ids (as seen in the upperdir) back to container ids. */
export type IdMapper = (uid: number, gid: number) => [number, number];
