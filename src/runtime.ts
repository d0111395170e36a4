// The one place where kb touches runtime-specific APIs (Bun, Deno). Everything else uses web and node: APIs.

import { gzipSync as zlibGzipSync } from "node:zlib";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** Which runtime runs kb. */
export const runtimeName: "bun" | "deno" | "node" = g.Bun ? "bun" : g.Deno ? "deno" : "node";

/** TLS options for one registry host. */
export interface TlsOptions {
  /** PEM text of extra CAs to trust. */
  ca?: string[];
  /** Skip certificate verification (--skip-tls-verify). */
  insecureSkipVerify?: boolean;
  /** PEM client certificate and key for mutual TLS (--registry-client-cert). */
  cert?: string;
  key?: string;
}

/**
 * fetch with per-call TLS settings: Bun takes `tls` in the init, Deno a custom HttpClient.
 * Without TLS options it is the global fetch.
 */
export function fetchWithTls(tls: TlsOptions | undefined): typeof fetch {
  if (!tls || (!tls.ca?.length && !tls.insecureSkipVerify && !tls.cert)) return fetch;
  if (runtimeName === "bun") {
    const tlsInit = { ca: tls.ca, rejectUnauthorized: !tls.insecureSkipVerify, ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) };
    return ((input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...(init ?? {}), tls: tlsInit } as RequestInit)) as typeof fetch;
  }
  if (runtimeName === "deno") {
    const client = g.Deno.createHttpClient({ caCerts: tls.ca ?? [], ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) });
    return ((input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...(init ?? {}), client } as RequestInit)) as typeof fetch;
  }
  return fetch;
}

/**
 * One gzip member of `data` at `level` (0–9). Under Bun: libdeflate (Bun.gzipSync's "libdeflate" library:
 * smaller output than zlib at the same level and speed, and stored blocks instead of zlib's 5 % growth on
 * incompressible data). Elsewhere node:zlib. docs/decisions/131-libdeflate-members.md.
 */
export function gzipMember(data: Uint8Array, level: number): Uint8Array {
  if (runtimeName === "bun") return g.Bun.gzipSync(data, { level, library: "libdeflate" });
  return new Uint8Array(zlibGzipSync(data, { level }));
}

/**
 * A gzip decompressor as a web transform where the runtime's own is the better one: under Bun its native
 * DecompressionStream inflates the 53 MB Debian layer in 0.8 s where node:zlib on this thread takes 1.2 s (the
 * whole unpack, tar and files included), reads multi-member blobs, keeps backpressure (a gzip bomb inflates only
 * what is read) and, as Go's gzip reader in Docker and containerd, refuses bytes after the last member.
 * Elsewhere undefined (Deno's stops after the first member): callers use node:zlib.
 * docs/decisions/134-unpack-speed-and-bench-deletes.md.
 */
export function nativeGunzip(): TransformStream<Uint8Array, Uint8Array> | undefined {
  if (runtimeName !== "bun") return undefined;
  return new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
}

/** Which deflate library gzipMember uses (part of a layer cache key: it decides the compressed bytes). */
export const gzipLibrary: string = runtimeName === "bun" ? "libdeflate" : "zlib";

let rssLimit = 80 << 20;
let lastLook = -Infinity;

/**
 * Bounds the resident set while kb streams large data (compression, extraction): Bun's collector lets short-lived
 * buffers pile up to 120–150 MB before it runs. When RSS is above the target (80 MB, raised to what remains after
 * a collection if the live data really is larger), a full collection runs now. Call it every few MB of data.
 * docs/decisions/132-memory.md.
 */
export function memoryCheckpoint(): void {
  if (runtimeName !== "bun") return;
  // Reading RSS costs ~12 µs, and the context hash and COPY's tar call this once per file (5,000 files: 60 ms
  // each pass): look at most once per 2 ms, in which ~0.4 MB of dead buffers can pile up at 200 MB/s.
  const now = performance.now();
  if (now - lastLook < 2) return;
  lastLook = now;
  if (process.memoryUsage.rss() <= rssLimit) return;
  g.Bun.gc(true);
  const after = process.memoryUsage.rss();
  rssLimit = Math.max(80 << 20, after + (8 << 20));
}

/** True inside a `bun build --compile` executable. */
export function isCompiledBinary(): boolean {
  return runtimeName === "bun" && typeof g.Bun?.main === "string" && g.Bun.main.startsWith("/$bunfs/");
}

/** A file embedded into the compiled executable (`bun build --compile main.ts FILE`). */
export interface EmbeddedFile {
  /** Bun's name for it: the source basename plus a content hash, e.g. `kb-sandbox-x86_64-mz3q0x5v.`. */
  name: string;
  size: number;
  /** The bytes, streamed from the executable. */
  stream(): ReadableStream<Uint8Array>;
}

/**
 * The first file embedded into this compiled executable whose name starts with `prefix`, or
 * undefined (also when not compiled, or under Deno/Node). Bun lists them in `Bun.embeddedFiles`.
 * @example const helper = embeddedFile("kb-sandbox-x86_64");
 */
export function embeddedFile(prefix: string): EmbeddedFile | undefined {
  if (runtimeName !== "bun" || !prefix) return undefined;
  const files = (g.Bun.embeddedFiles ?? []) as Array<Blob & { name: string }>;
  const f = files.find((x) => x.name === prefix || x.name.startsWith(`${prefix}-`) || x.name.startsWith(`${prefix}.`));
  return f ? { name: f.name, size: f.size, stream: () => f.stream() } : undefined;
}

/**
 * Asks the runtime for a full garbage collection now (Bun, or Node/Deno started with --expose-gc); a no-op
 * elsewhere. For the few places that just dropped a large transient (a big Dockerfile's read buffers) before
 * allocating more: the collector would free them late, and the peak RSS would count both.
 */
export function collectGarbage(): void {
  if (runtimeName === "bun") g.Bun.gc(true);
  else if (typeof g.gc === "function") g.gc();
}
