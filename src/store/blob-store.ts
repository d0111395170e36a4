// The content-addressed blob store: blobs/sha256/<hex>, written to tmp/, verified, fsynced, then renamed.

import { ensureStoreTrust } from "./trust.ts";
import { homedir } from "node:os";
import { join } from "node:path";
import { mkdir, open, rename, stat, unlink, utimes } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { KbError } from "../errors.ts";
import { isDigest, type Digest } from "../image/types.ts";
import { digestMismatch, hashingTransform, sizeMismatch } from "../image/digest.ts";
import { fileStream, writeStreamTo } from "./file-stream.ts";
import { createCacheIndex, type CacheIndex } from "./cache-index.ts";
import { withLock, type LockOptions } from "./lock.ts";
import type { Lease, PinKind } from "./leases.ts";

/** Where a store keeps each kind of thing. */
export interface StoreDirs {
  root: string;
  blobs: string;
  tmp: string;
  cache: string;
  trees: string;
  locks: string;
}

/** Options of {@link BlobStore.put}. */
export interface PutOptions {
  /** The digest the bytes must have; without it the blob is named by what it hashes to. */
  expected?: Digest;
  /** The byte count the blob must have. */
  size?: number;
  signal?: AbortSignal;
}

/**
 * Content-addressed blobs. The store is the one place that trusts a digest: `put` verifies before
 * publishing, so a file under `blobs/sha256/<hex>` always hashes to `<hex>`. Readers need not re-verify.
 */
export interface BlobStore {
  has(d: Digest): Promise<boolean>;
  stat(d: Digest): Promise<{ size: number } | undefined>;
  /** Opens a stored blob; rejects with KbError("STORE") if absent. The caller consumes or cancels it. */
  open(d: Digest, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** Path of the blob file (whether it exists or not). */
  path(d: Digest): string;
  /** Streams into tmp/ while hashing, fsyncs, verifies `expected`/`size`, renames into place. */
  put(stream: ReadableStream<Uint8Array>, opts?: PutOptions): Promise<{ digest: Digest; size: number }>;
  putBytes(bytes: Uint8Array, expected?: Digest): Promise<{ digest: Digest; size: number }>;
  delete(d: Digest): Promise<void>;
}

/** A store on disk: blobs, the build-cache index, extracted trees and locks. */
export interface Store extends BlobStore {
  readonly dirs: StoreDirs;
  readonly cache: CacheIndex;
  /** Runs `fn` under a named cross-process lock in `locks/`. */
  withLock<T>(name: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T>;
  /** A fresh temp path `tmp/<pid>-<random><suffix>` (prune removes those of dead processes). */
  tempPath(suffix?: string): string;
  /**
   * From now on, pins every blob, record (and tree, through pin) this store object touches in `lease`, so a
   * concurrent prune or GC keeps them. See leases.ts.
   */
  useLease(lease: Lease): void;
  /** Pins an entry in the lease, if one is in use (call before using a tree). */
  pin(kind: PinKind, name: string): Promise<void>;
}

/**
 * The default store folder: `$KB_CACHE_DIR`, else `$XDG_CACHE_HOME/kb`, else `~/.cache/kb`.
 * @example defaultStoreDir(process.env)
 */
export function defaultStoreDir(env: Record<string, string | undefined> = process.env): string {
  if (env.KB_CACHE_DIR) return env.KB_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "kb");
  return join(env.HOME || homedir(), ".cache", "kb");
}

/**
 * Opens (creating if needed) the store at `dir`.
 * @default dir = defaultStoreDir(process.env)
 * @example const store = await openStore("/var/cache/kb"); await store.putBytes(bytes)
 */
export async function openStore(dir: string = defaultStoreDir()): Promise<Store> {
  const dirs: StoreDirs = {
    root: dir,
    blobs: join(dir, "blobs", "sha256"),
    tmp: join(dir, "tmp"),
    cache: join(dir, "cache"),
    trees: join(dir, "trees"),
    locks: join(dir, "locks"),
  };
  const top = [join(dir, "blobs"), dirs.blobs, dirs.tmp, dirs.cache, dirs.trees, dirs.locks];
  try {
    await ensureStoreTrust(dir, top);
    for (const d of [dirs.blobs, dirs.tmp, dirs.cache, dirs.trees, dirs.locks]) await mkdir(d, { recursive: true, mode: 0o700 });
  } catch (e) {
    if (e instanceof KbError) throw e;
    throw new KbError("STORE", `Cannot open the store "${dir}": ${(e as Error).message}`, {
      hint: "pass --cache-dir with a writable folder, or set KB_CACHE_DIR",
      cause: e,
    });
  }
  return new DiskStore(dirs);
}

function hexOf(d: Digest): string {
  if (!isDigest(d)) throw new KbError("STORE", `Cannot use digest "${String(d).slice(0, 80)}": expected sha256:<64 hex>`);
  return d.slice(7);
}

/**
 * A BlobStore over any `<blobs>/<hex>` folder (the store's, or an OCI layout's `blobs/sha256`), with temp files
 * `<tmpDir>/<tmpPrefix><pid>-<random>` on the same filesystem.
 * @example const blobs = openBlobDir(join(layout, "blobs/sha256"), layout, ".kb-tmp-")
 */
export function openBlobDir(blobsDir: string, tmpDir: string, tmpPrefix = ""): BlobStore & { tempPath(suffix?: string): string } {
  return new BlobDir(blobsDir, tmpDir, tmpPrefix);
}

class BlobDir implements BlobStore {
  /** Called before a blob is used or published (a lease pins it). */
  protected pinBlob?: (d: Digest) => Promise<void>;
  constructor(private readonly blobsDir: string, private readonly tmpDir: string, private readonly tmpPrefix: string) {}

  path(d: Digest): string {
    return join(this.blobsDir, hexOf(d));
  }

  tempPath(suffix = ""): string {
    return join(this.tmpDir, `${this.tmpPrefix}${process.pid}-${randomBytes(8).toString("hex")}${suffix}`);
  }

  async stat(d: Digest): Promise<{ size: number } | undefined> {
    const p = this.path(d);
    await this.pinBlob?.(d);
    try {
      const st = await stat(p);
      return { size: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async has(d: Digest): Promise<boolean> {
    return (await this.stat(d)) !== undefined;
  }

  async open(d: Digest, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    await this.pinBlob?.(d);
    try {
      return await fileStream(this.path(d), { signal });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      throw new KbError("STORE", `Cannot open blob "${d}": not in "${this.blobsDir}"`, {
        hint: "the cache was pruned meanwhile; run the command again",
      });
    }
  }

  async put(stream: ReadableStream<Uint8Array>, opts: PutOptions = {}): Promise<{ digest: Digest; size: number }> {
    if (opts.expected !== undefined) hexOf(opts.expected);
    const temp = this.tempPath();
    const h = hashingTransform();
    let published = false;
    try {
      const fh = await open(temp, "wx", 0o644);
      try {
        await writeStreamTo(stream.pipeThrough(h.stream, { signal: opts.signal }), fh, opts.signal);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = h.digest();
      const size = h.size();
      if (opts.size !== undefined && size !== opts.size) throw sizeMismatch("blob", opts.expected ?? digest, opts.size, size);
      if (opts.expected !== undefined && digest !== opts.expected) throw digestMismatch("blob", opts.expected, digest);
      const final = this.path(digest);
      await this.pinBlob?.(digest); // before it is visible: a prune running now sees the pin
      await rename(temp, final); // atomic; a concurrent writer of the same blob wrote the same bytes
      published = true;
      return { digest, size };
    } finally {
      if (!published) await unlink(temp).catch(() => {});
    }
  }

  async putBytes(bytes: Uint8Array, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    if (expected && (await this.has(expected))) {
      await this.touch(expected);
      return { digest: expected, size: (await this.stat(expected))!.size };
    }
    return this.put(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), { expected, size: bytes.byteLength });
  }

  /** Marks a blob as recently used (prune keeps recent blobs for a grace period). */
  async touch(d: Digest): Promise<void> {
    const now = new Date();
    await utimes(this.path(d), now, now).catch(() => {});
  }

  async delete(d: Digest): Promise<void> {
    await unlink(this.path(d)).catch((e) => {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    });
  }

}

class DiskStore extends BlobDir implements Store {
  readonly cache: CacheIndex;
  private lease?: Lease;
  constructor(readonly dirs: StoreDirs) {
    super(dirs.blobs, dirs.tmp, "");
    const index = createCacheIndex(dirs.cache, () => this.tempPath(".json"));
    this.cache = {
      get: async (key) => (await this.pin("record", key), index.get(key)),
      put: async (key, record) => (await this.pin("record", key), index.put(key, record)),
      delete: (key) => index.delete(key),
      list: () => index.list(),
    };
  }

  useLease(lease: Lease): void {
    this.lease = lease;
    this.pinBlob = (d) => lease.pin("blob", d);
  }

  async pin(kind: PinKind, name: string): Promise<void> {
    await this.lease?.pin(kind, name);
  }

  withLock<T>(name: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T> {
    return withLock(this.dirs.locks, name, fn, opts);
  }
}
