// Test kit for the layer module: collecting streams, building tar archives, temp dirs and running programs.

import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTarStream, readTar, type TarEntry, type TarInput } from "../../src/layer/index.ts";

export async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

export function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]);
      else c.close();
    },
  });
}

export async function* iter<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}

export function tarOf(inputs: TarInput[]): Promise<Uint8Array> {
  return collect(createTarStream(iter(inputs)));
}

export async function readAll(bytes: Uint8Array | ReadableStream<Uint8Array>): Promise<{ entry: TarEntry; data: Uint8Array }[]> {
  const out: { entry: TarEntry; data: Uint8Array }[] = [];
  for await (const m of readTar(bytes instanceof Uint8Array ? streamOf(bytes) : bytes)) {
    out.push({ entry: m.entry, data: await collect(m.body) });
  }
  return out;
}

export function tempDir(prefix = "kb-layer-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function run(cmd: string, args: string[], opts: { cwd?: string; input?: Uint8Array } = {}): { code: number; out: string; err: string; raw: Buffer } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 30 });
  return { code: r.status ?? -1, out: r.stdout?.toString() ?? "", err: r.stderr?.toString() ?? "", raw: r.stdout };
}

export function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

/** A tiny deterministic PRNG (mulberry32) for fuzz tests: the test kit's. */
export { prng } from "../../test/kit/random-image.ts";

export function file(p: string, data: string | Uint8Array, extra: Partial<TarEntry> = {}): TarInput {
  const body = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return { entry: { path: p, type: "file", mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 1700000000, ...extra }, body };
}

export function node(p: string, type: TarEntry["type"], extra: Partial<TarEntry> = {}): TarInput {
  return { entry: { path: p, type, mode: type === "dir" ? 0o755 : 0o777, uid: 0, gid: 0, size: 0, mtime: 1700000000, ...extra } };
}
