// Committing a layer: tar entries → one-pass compress + hash → the store, and a cache record for its key.

import { KbError } from "../../errors.ts";
import type { Layer } from "../../image/image.ts";
import { isDigest, type Descriptor, type Digest } from "../../image/types.ts";
import { createTarStream, writeLayer, type CompressionAlgorithm, type TarInput, type WrittenLayer } from "../../layer/index.ts";
import { blobLayer, type Store } from "../../store/index.ts";
import type { StageLayer } from "../core/stage-state.ts";
import { cacheKey } from "../core/cache-key.ts";
import { membersKey, openMemberReuse } from "./member-reuse.ts";

export interface LayerSettings {
  compression: CompressionAlgorithm;
  level?: number;
  /** Compress on several cores (see useParallelCompression). */
  parallel?: boolean;
  /** Every entry's mtime is at most this (seconds; SOURCE_DATE_EPOCH), as BuildKit's rewrite-timestamp does. */
  mtimeClamp?: number;
  /**
   * The instruction over its parent, without its sources' content: the next build of the same slot takes the
   * compressed members that did not change from this build's blob (member-reuse.ts).
   */
  reuseSlot?: string;
}

/** What a cache record of kind "layer" holds. */
export interface LayerRecord {
  descriptor: Descriptor;
  diffId: Digest;
  /** The layer holds no entries (a RUN that changed nothing). */
  empty?: boolean;
}

/** Streams entries into a compressed blob in the store and returns it as a StageLayer. */
/** The biggest files a layer holds, noted while it is written (for the build report, without re-reading it). */
export type BiggestFiles = { path: string; size: number }[];

/** Cache key of a layer's biggest-files note. */
export const biggestFilesKey = (digest: string) => cacheKey("", "layer-biggest-files-v1", digest);

async function* noteBiggest(entries: AsyncIterable<TarInput>, top: BiggestFiles): AsyncGenerator<TarInput> {
  for await (const e of entries) {
    if (e.entry.type === "file" && (top.length < 5 || e.entry.size > top[top.length - 1]!.size)) {
      top.push({ path: e.entry.path, size: e.entry.size });
      top.sort((a, b) => b.size - a.size);
      if (top.length > 5) top.pop();
    }
    yield e;
  }
}

/** Clamps each entry's mtime to `clamp` (files a RUN wrote keep their real times otherwise). */
async function* clampMtimes(entries: AsyncIterable<TarInput>, clamp: number | undefined): AsyncGenerator<TarInput> {
  if (clamp === undefined) return yield* entries;
  for await (const e of entries) yield e.entry.mtime > clamp ? { ...e, entry: { ...e.entry, mtime: clamp } } : e;
}

const emptyBlobs = new Map<string, Promise<{ bytes: Uint8Array; written: WrittenLayer }>>();

/**
 * The blob of a layer with no entries (a RUN that changed nothing): the same bytes for a compression and level,
 * so it is made once per process through the same writeLayer, and each later empty layer only checks the store.
 */
function emptyBlob(settings: LayerSettings): Promise<{ bytes: Uint8Array; written: WrittenLayer }> {
  const k = `${settings.compression}/${settings.level}/${settings.parallel}`;
  let p = emptyBlobs.get(k);
  if (!p) {
    p = (async () => {
      const parts: Uint8Array[] = [];
      const none = (async function* (): AsyncGenerator<TarInput> {})();
      const written = await writeLayer(createTarStream(none), { compression: settings.compression, level: settings.level, parallel: settings.parallel }, async (s) => {
        for await (const c of s) parts.push(c);
      });
      const bytes = new Uint8Array(written.size);
      let o = 0;
      for (const c of parts) (bytes.set(c, o), (o += c.length));
      return { bytes, written };
    })();
    p.catch(() => emptyBlobs.delete(k));
    emptyBlobs.set(k, p);
  }
  return p;
}

export async function commitLayer(store: Store, entries: AsyncIterable<TarInput>, settings: LayerSettings, signal?: AbortSignal): Promise<StageLayer> {
  const biggest: BiggestFiles = [];
  const it = entries[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) {
    // A RUN that changed nothing: no tar to stream and compress, and no blob to write when the store has it
    // (20 x `RUN true`: snapshot+compress about halved; docs/decisions/133-copy-pipeline.md).
    signal?.throwIfAborted();
    const { bytes, written } = await emptyBlob(settings);
    const stored = await store.putBytes(bytes, written.digest);
    const descriptor: Descriptor = { mediaType: written.mediaType, digest: stored.digest, size: stored.size };
    await store.cache.put(biggestFilesKey(written.digest), { kind: "layer-biggest-files", data: biggest, refs: [] }).catch(() => undefined);
    return { layer: blobLayer(store, descriptor, written.diffId), diffId: written.diffId, empty: true };
  }
  const all = (async function* () {
    yield first.value;
    yield* { [Symbol.asyncIterator]: () => it }; // delegates return() too: a cancelled tar stops the producer
  })();
  const tar = createTarStream(noteBiggest(clampMtimes(all, settings.mtimeClamp), biggest));
  let stored: { digest: Digest; size: number } | undefined;
  const members = settings.reuseSlot ? await openMemberReuse(store, membersKey(settings.reuseSlot, settings)) : undefined;
  const written = await writeLayer(tar, { compression: settings.compression, level: settings.level, parallel: settings.parallel, reuse: members?.reuse }, async (s) => {
    stored = await store.put(s, { signal });
  });
  if (!stored || stored.digest !== written.digest) {
    throw new KbError("STORE", `Cannot store layer "${written.digest}": the store saw "${stored?.digest}"`);
  }
  const descriptor: Descriptor = { mediaType: written.mediaType, digest: written.digest, size: written.size };
  await store.cache.put(biggestFilesKey(written.digest), { kind: "layer-biggest-files", data: biggest, refs: [] }).catch(() => undefined);
  await members?.save(written.digest);
  // A tar of nothing is its two zero end blocks (1024 bytes).
  return { layer: blobLayer(store, descriptor, written.diffId), diffId: written.diffId, empty: written.uncompressedSize <= 1024 };
}

/** Records a layer under a cache key. */
export async function rememberLayer(store: Store, key: string, l: StageLayer): Promise<void> {
  const descriptor = await l.layer.descriptor();
  const data: LayerRecord = { descriptor, diffId: l.diffId as Digest, empty: l.empty };
  await store.cache.put(key, { kind: "layer", data, refs: [descriptor.digest] });
}

/** A cached layer for `key`, if the record (younger than `maxAgeMs`, --cache-ttl) and its blob are in the store. */
export async function recallLayer(store: Store, key: string, maxAgeMs?: number): Promise<StageLayer | undefined> {
  const rec = await store.cache.get(key);
  if (!rec || rec.kind !== "layer") return undefined;
  if (maxAgeMs !== undefined && Date.now() - rec.createdAt > maxAgeMs) return undefined;
  const data = rec.data as Partial<LayerRecord>;
  const d = data.descriptor;
  if (!d || !isDigest(d.digest) || !isDigest(data.diffId) || typeof d.size !== "number") return undefined;
  if (!(await store.has(d.digest))) return undefined;
  return { layer: blobLayer(store, d, data.diffId), diffId: data.diffId, empty: data.empty === true };
}

/** A Layer that answers as `layer` does, except for what `over` replaces. */
function layerWith(layer: Layer, over: Partial<Pick<Layer, "compressed" | "uncompressed" | "sourceRepository">>): Layer {
  const sourceRepository = over.sourceRepository ?? layer.sourceRepository;
  return {
    digest: () => layer.digest(),
    diffId: () => layer.diffId(),
    size: () => layer.size(),
    mediaType: layer.mediaType,
    descriptor: () => layer.descriptor(),
    compressed: over.compressed ?? ((s) => layer.compressed(s)),
    uncompressed: over.uncompressed ?? ((s) => layer.uncompressed(s)),
    ...(sourceRepository ? { sourceRepository } : {}),
  };
}

/** A Layer that also says where else its blob lives (for cross-repository mounts). */
export function withSource(layer: Layer, sourceRepository: string | undefined): Layer {
  return sourceRepository ? layerWith(layer, { sourceRepository }) : layer;
}

/** Downloads a blob into the store; a copy that fails its digest (corrupted on the way) is fetched again, twice at most. */
async function downloadVerified(store: Store, layer: Layer, d: Digest, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.put(await layer.compressed(signal), { expected: d, signal });
      return;
    } catch (e) {
      const corrupt = e instanceof KbError && (e.code === "BLOB_DIGEST_MISMATCH" || e.code === "BLOB_SIZE_MISMATCH");
      if (!corrupt || attempt >= 3 || signal?.aborted) throw e;
    }
  }
}

/**
 * A remote layer that is downloaded into the store the first time it is read, and read from the store
 * after that (by every later step and build). Digest verification happens in the store's put.
 */
export function storeThrough(store: Store, layer: Layer): Layer {
  let fetching: Promise<void> | undefined;
  const local = async (signal?: AbortSignal) => {
    const d = await layer.digest();
    if (!(await store.has(d))) {
      fetching ??= downloadVerified(store, layer, d, signal);
      try {
        await fetching;
      } catch (e) {
        fetching = undefined;
        throw e;
      }
    }
    return d;
  };
  return layerWith(layer, {
    compressed: async (signal) => store.open(await local(signal), signal),
    uncompressed: async (signal) => {
      await local(signal);
      return blobLayer(store, await layer.descriptor(), await layer.diffId()).uncompressed(signal);
    },
  });
}
