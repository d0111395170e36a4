// Content hashes of COPY/ADD sources for cache keys: path, type, mode, link target and bytes; never mtime or owner.

import { memoryCheckpoint } from "../runtime.ts";
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { Buffer } from "node:buffer";
import { open } from "node:fs/promises";
import { KbError } from "../errors.ts";
import type { Digest } from "../image/types.ts";
import type { ResolvedSource } from "./sources.ts";
import { type SourceEntry, walkSource } from "./walk-source.ts";
import type { ContextEntry } from "./walk.ts";

/** A memo of file content hashes keyed by (path, size, mtime, inode, ctime); the store may back it later. */
export interface HashMemo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** An in-memory HashMemo that forgets the oldest entries beyond `max`. @default max 100000 */
export function createMemoryHashMemo(max = 100_000): HashMemo {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k),
    set: (k, v) => {
      m.set(k, v);
      if (m.size > max) m.delete(m.keys().next().value!);
    },
  };
}

/** Options of hashSources. */
export interface HashOptions {
  memo?: HashMemo;
  signal?: AbortSignal;
}

/** The memo key of a file: any change to content normally changes one of these. */
export function memoKey(e: ContextEntry): string {
  return JSON.stringify([e.absPath, e.size, e.mtimeMs, e.ino, e.ctimeMs]);
}

/** Files up to this size are read in one call: one syscall round instead of open/read/close awaits. */
const SMALL_FILE = 256 * 1024;

/**
 * sha256 hex of a file: a small file (≤ 256 KiB, the size the walk saw) in one read, a bigger one in
 * 256 KiB chunks through one reused buffer (never the whole file).
 */
export async function hashFile(absPath: string, signal?: AbortSignal, size?: number): Promise<string> {
  if (size !== undefined && size <= SMALL_FILE) return hashSmall(absPath);
  const h = createHash("sha256");
  const buf = Buffer.allocUnsafe(256 * 1024);
  const fh = await open(absPath, "r");
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest("hex");
}

// One buffer for every small file: readFileSync left a dead buffer per file, and the collections they cost were
// a fifth of a cold COPY of 5,000 small files (docs/decisions/133-copy-pipeline.md).
const smallBuf = Buffer.allocUnsafe(SMALL_FILE);

/** sha256 hex of a small file read into the shared buffer, to its end (a file that grew is still hashed whole). */
function hashSmall(absPath: string): string {
  const h = createHash("sha256");
  const fd = openSync(absPath, "r");
  try {
    for (;;) {
      const n = readSync(fd, smallBuf, 0, smallBuf.length, null);
      if (n === 0) break;
      h.update(smallBuf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** A context file kb may not read (EACCES, EPERM) gets the same clear error as an unreadable directory. */
export function unreadable(rel: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== "EACCES" && code !== "EPERM") return err;
  return new KbError("CONTEXT", `Cannot read "${rel}" in the build context: ${code}`, { hint: `Make "${rel}" readable, or exclude it in .dockerignore`, cause: err });
}

/** sha256 hex of a walked file, with the context's clear error when kb may not read it. */
export function hashEntryFile(e: SourceEntry, signal?: AbortSignal): Promise<string> {
  return hashFile(e.absPath, signal, e.size).catch((err) => Promise.reject(unreadable(e.path, err)));
}

/**
 * The digest of hashSources, fed source by source and entry by entry in walkSource's order: by hashSources, or by a
 * COPY that hashes each file while it tars it (one read instead of two, copy.ts). File hashes go to the memo.
 */
export class SourcesDigest {
  #h = createHash("sha256").update("kb-context-hash-v1\n");
  constructor(private readonly memo?: HashMemo) {}

  /** Starts the i-th resolved source. */
  source(i: number): void {
    this.#h.update(`${JSON.stringify(["source", i])}\n`);
  }

  /** One entry; `content` is a file's sha256 hex ("" for anything else). */
  entry(e: SourceEntry, content = ""): void {
    if (e.type === "file") this.memo?.set(memoKey(e), content);
    this.#h.update(`${JSON.stringify([e.type, e.destRel, e.mode & 0o7777, e.linkTarget ?? "", content])}\n`);
  }

  digest(): Digest {
    return `sha256:${this.#h.digest("hex")}`;
  }
}

/**
 * One digest over exactly what the COPY reads: for each source in order, each entry's destination path,
 * type, permission bits (`mode & 0o7777`), link target and content sha256. Mtime, uid and gid never count.
 * @example const key = await hashSources(await resolveSources(ctx, ["src"]), { memo })
 */
export async function hashSources(resolved: ResolvedSource[], opts: HashOptions = {}): Promise<Digest> {
  const d = new SourcesDigest(opts.memo);
  for (const [i, src] of resolved.entries()) {
    d.source(i);
    for await (const e of walkSource(src)) {
      opts.signal?.throwIfAborted();
      let content = "";
      if (e.type === "file") {
        content = opts.memo?.get(memoKey(e)) ?? (await hashEntryFile(e, opts.signal));
        memoryCheckpoint(); // each file read leaves a dead buffer
      }
      d.entry(e, content);
    }
  }
  return d.digest();
}
