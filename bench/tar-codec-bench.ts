// Tar codec benchmark: kb's own codec vs tar-stream vs modern-tar, writing and reading 5,000 small files
// plus one big file (BENCH_BIG_MB, default 200). Each candidate runs in its own process for a fair peak RSS.
// Usage: bun bench/tar-codec-bench.ts            (runs all)   |   bun bench/tar-codec-bench.ts <candidate> <write|read> <tarPath>

import { spawnSync } from "node:child_process";
import { createReadStream, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { createTarDecoder, createTarPacker } from "modern-tar";
import tarStream from "tar-stream";
import { createTarStream, readTar, type TarInput } from "../src/layer/index.ts";

const SMALL = 5000;
const BIG = Number(process.env.BENCH_BIG_MB ?? 200) * 1024 * 1024;
const CHUNK = 64 * 1024;
const small = new Uint8Array(1024).fill(97);
const chunk = new Uint8Array(CHUNK).fill(98);

function bigBody(): ReadableStream<Uint8Array> {
  let left = BIG;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(CHUNK, left);
      left -= n;
      c.enqueue(n === CHUNK ? chunk : chunk.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

async function* kbEntries(): AsyncGenerator<TarInput> {
  for (let i = 0; i < SMALL; i++) {
    yield { entry: { path: `d${i % 50}/f${i}.txt`, type: "file", mode: 0o644, uid: 0, gid: 0, size: small.length, mtime: 0 }, body: small };
  }
  yield { entry: { path: "big.bin", type: "file", mode: 0o644, uid: 0, gid: 0, size: BIG, mtime: 0 }, body: bigBody() };
}

async function toFile(s: AsyncIterable<Uint8Array>, out: string): Promise<void> {
  const fh = await open(out, "w");
  for await (const b of s) await fh.write(b);
  await fh.close();
}

const writers: Record<string, (out: string) => Promise<void>> = {
  kb: (out) => toFile(createTarStream(kbEntries()), out),
  "modern-tar": async (out) => {
    const { readable, controller } = createTarPacker();
    const done = toFile(readable, out);
    for await (const { entry, body } of kbEntries()) {
      const w = controller.add({ name: entry.path, size: entry.size, mtime: new Date(0), mode: entry.mode });
      if (body instanceof Uint8Array) {
        const wr = w.getWriter();
        await wr.write(body);
        await wr.close();
      } else await body!.pipeTo(w);
    }
    controller.finalize();
    await done;
  },
  "tar-stream": async (out) => {
    const pack = tarStream.pack();
    const done = toFile(pack as AsyncIterable<Uint8Array>, out);
    for await (const { entry, body } of kbEntries()) {
      const header = { name: entry.path, size: entry.size, mtime: new Date(0), mode: entry.mode };
      if (body instanceof Uint8Array) await new Promise<void>((res, rej) => pack.entry(header, Buffer.from(body), (e) => (e ? rej(e) : res())));
      else {
        await new Promise<void>((res, rej) => {
          const w = pack.entry(header, (e) => (e ? rej(e) : res()));
          Readable.fromWeb(body as never).pipe(w);
        });
      }
    }
    pack.finalize();
    await done;
  },
};

const webFile = (p: string) => Readable.toWeb(createReadStream(p, { highWaterMark: CHUNK })) as unknown as ReadableStream<Uint8Array>;
const readers: Record<string, (p: string) => Promise<number>> = {
  kb: async (p) => {
    let n = 0;
    for await (const { body } of readTar(webFile(p))) for await (const b of body) n += b.length;
    return n;
  },
  "modern-tar": async (p) => {
    let n = 0;
    const dec = createTarDecoder();
    const piped = webFile(p).pipeTo(dec.writable);
    for await (const { body } of dec.readable) for await (const b of body) n += b.length;
    await piped;
    return n;
  },
  "tar-stream": async (p) => {
    let n = 0;
    const ex = tarStream.extract();
    createReadStream(p, { highWaterMark: CHUNK }).pipe(ex);
    for await (const e of ex) for await (const b of e) n += (b as Buffer).length;
    return n;
  },
};

async function child(candidate: string, mode: string, tarPath: string): Promise<void> {
  const t0 = performance.now();
  if (mode === "write") await writers[candidate](tarPath);
  else await readers[candidate](tarPath);
  const s = (performance.now() - t0) / 1000;
  const mb = statSync(tarPath).size / 1024 / 1024;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ candidate, mode, seconds: +s.toFixed(2), mbPerS: +(mb / s).toFixed(1), peakRssMb: +rss.toFixed(0) }));
}

if (process.argv[2]) await child(process.argv[2], process.argv[3], process.argv[4]);
else {
  for (const c of Object.keys(writers)) {
    const tarPath = path.join(tmpdir(), `kb-tar-bench-${c}.tar`);
    for (const mode of ["write", "read"]) {
      const r = spawnSync(process.execPath, [import.meta.filename, c, mode, tarPath], { stdio: ["ignore", "pipe", "inherit"] });
      process.stdout.write(r.stdout.toString() || `${c} ${mode}: failed\n`);
    }
    rmSync(tarPath, { force: true });
  }
}
