// The build-cache index: cache/<key>.json records, written atomically (temp + rename); mtime = last use.

import { join } from "node:path";
import { readdir, readFile, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { KbError } from "../errors.ts";
import { isDigest, type Digest } from "../image/types.ts";

/** One build-cache entry. The build engine defines `kind` and `data`; `refs` name the blobs it needs (for GC). */
export interface CacheRecord {
  kind: string;
  data: unknown;
  /** Blobs this record keeps alive; manifests and indexes among them keep their children alive too. */
  refs: Digest[];
  /** ms since the epoch. */
  createdAt: number;
  /** ms since the epoch; refreshed by every `get` (as the file's mtime). */
  lastUsed: number;
}

/** What `put` takes: timestamps are filled in. */
export type CacheRecordInput = Pick<CacheRecord, "kind" | "data"> & { refs?: Digest[] };

/** The build-cache index of a store. */
export interface CacheIndex {
  /** The record for `key`, or undefined (also for an unreadable record, which is then removed). Marks it used. */
  get(key: string): Promise<CacheRecord | undefined>;
  /** Writes the record atomically; concurrent writers of one key: the last rename wins, both are whole. */
  put(key: string, record: CacheRecordInput): Promise<CacheRecord>;
  delete(key: string): Promise<void>;
  /** Every key with its record, for maintenance. */
  list(): Promise<Array<{ key: string; record: CacheRecord; bytes: number }>>;
}

const KEY_RE = /^[a-f0-9]{8,128}$/;

function checkKey(key: string): void {
  if (!KEY_RE.test(key)) {
    throw new KbError("STORE", `Cannot use cache key "${key.slice(0, 80)}": expected 8 to 128 lowercase hex characters`, {
      hint: "cache keys are hex digests, without the \"sha256:\" prefix",
    });
  }
}

/** Parses a record file; undefined when it is not a valid record. */
export function parseCacheRecord(text: string, mtimeMs: number): CacheRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const r = v as Partial<CacheRecord>;
  if (typeof r.kind !== "string" || typeof r.createdAt !== "number") return undefined;
  const refs = Array.isArray(r.refs) ? r.refs.filter(isDigest) : [];
  return { kind: r.kind, data: r.data, refs, createdAt: r.createdAt, lastUsed: mtimeMs }; // the file mtime is the truth (get() touches it)
}

/** Creates the index over `dir`; `tempPath` gives fresh names in the store's tmp/ (same filesystem). */
export function createCacheIndex(dir: string, tempPath: () => string): CacheIndex {
  const file = (key: string) => join(dir, `${key}.json`);
  const read = async (key: string) => {
    try {
      const f = file(key);
      const [text, st] = await Promise.all([readFile(f, "utf8"), stat(f)]);
      return { record: parseCacheRecord(text, st.mtimeMs), bytes: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  };
  const index: CacheIndex = {
    async get(key) {
      checkKey(key);
      const got = await read(key);
      if (!got) return undefined;
      if (!got.record) {
        await unlink(file(key)).catch(() => {});
        return undefined;
      }
      const now = new Date();
      await utimes(file(key), now, now).catch(() => {});
      return { ...got.record, lastUsed: now.getTime() };
    },
    async put(key, input) {
      checkKey(key);
      const now = Date.now();
      const record: CacheRecord = { kind: input.kind, data: input.data, refs: input.refs ?? [], createdAt: now, lastUsed: now };
      const temp = tempPath();
      try {
        await writeFile(temp, JSON.stringify(record), { flag: "wx" });
        await rename(temp, file(key));
      } catch (e) {
        await unlink(temp).catch(() => {});
        throw e;
      }
      return record;
    },
    async delete(key) {
      checkKey(key);
      await unlink(file(key)).catch(() => {});
    },
    async list() {
      const out: Array<{ key: string; record: CacheRecord; bytes: number }> = [];
      for (const name of await readdir(dir)) {
        const key = name.replace(/\.json$/, "");
        if (!name.endsWith(".json") || !KEY_RE.test(key)) continue;
        const got = await read(key);
        if (got?.record) out.push({ key, record: got.record, bytes: got.bytes });
      }
      return out;
    },
  };
  return index;
}
