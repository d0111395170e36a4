// Test kit: random images with real layers (tar made by the system `tar`, gzip by node:zlib), seeded.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { assembleImage } from "../../src/image/assemble.ts";
import { digestOfStream } from "../../src/image/digest.ts";
import type { Image, Layer } from "../../src/image/image.ts";
import { MediaType, type Digest, type ImageConfig } from "../../src/image/types.ts";

const sha256 = (b: Uint8Array): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A seeded PRNG (mulberry32): same seed, same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Layer over bytes in memory (test sizes only). */
export function memoryLayer(compressed: Uint8Array, diffId: Digest, mediaType: string, uncompressedBytes?: Uint8Array): Layer {
  const digest = sha256(compressed);
  const stream = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream();
  return {
    digest: async () => digest,
    diffId: async () => diffId,
    size: async () => compressed.byteLength,
    mediaType,
    compressed: async () => stream(compressed),
    uncompressed: async () => stream(uncompressedBytes ?? compressed),
    descriptor: async () => ({ mediaType, size: compressed.byteLength, digest }),
  };
}

/** A real tar of `files` (path → content, or {symlink}) made by the system tar, reproducibly. */
export function tarOf(files: Record<string, string | Uint8Array | { symlink: string }>): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "kb-rnd-"));
  try {
    for (const [p, content] of Object.entries(files)) {
      const full = join(dir, p);
      mkdirSync(join(full, ".."), { recursive: true });
      if (typeof content === "object" && "symlink" in content) symlinkSync(content.symlink, full);
      else writeFileSync(full, content);
    }
    return execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", "-", "-C", dir, "."], {
      maxBuffer: 1 << 28,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A gzip layer from a tar. */
export function gzipLayer(tar: Uint8Array): Layer {
  return memoryLayer(gzipSync(tar, { level: 1 }), sha256(tar), MediaType.OciLayerGzip, tar);
}

/** Options of {@link randomImage}. */
export interface RandomImageOptions {
  seed?: number;
  layers?: number;
  /** Files per layer. @default 3 */
  files?: number;
  /** Max bytes per file. @default 4096 */
  maxFileSize?: number;
  mediaTypes?: "oci" | "docker";
}

/**
 * A random image: `layers` gzip layers of random files, a linux/amd64 config with history.
 * @example const img = randomImage({ seed: 1, layers: 3 })
 */
export function randomImage(opts: RandomImageOptions = {}): Image {
  const rnd = prng(opts.seed ?? 1);
  const layers: Layer[] = [];
  for (let i = 0; i < (opts.layers ?? 2); i++) {
    const files: Record<string, Uint8Array | { symlink: string }> = {};
    for (let f = 0; f < (opts.files ?? 3); f++) {
      const bytes = new Uint8Array(Math.floor(rnd() * (opts.maxFileSize ?? 4096)));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
      files[`layer${i}/dir${f % 2}/file${f}.bin`] = bytes;
    }
    files[`layer${i}/link`] = { symlink: "dir0/file0.bin" };
    layers.push(gzipLayer(tarOf(files)));
  }
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/sh"], Labels: { seed: String(opts.seed ?? 1) } },
    rootfs: { type: "layers", diff_ids: [] },
    history: layers.map((_, i) => ({ created: "1970-01-01T00:00:00Z", created_by: `random layer ${i}` })),
  };
  return assembleImage({ config, layers, mediaTypes: opts.mediaTypes ?? "oci" });
}


/**
 * Checks an image's invariants by reading every byte: manifest digest, config digest and size,
 * each layer's digest, size and diffID, and that manifest, config and layers agree. Throws on the first problem.
 */
export async function validateImage(img: Image): Promise<void> {
  const fail = (why: string) => {
    throw new Error(`invalid image: ${why}`);
  };
  const raw = await img.rawManifest();
  if (sha256(raw) !== (await img.digest())) fail("digest() is not sha256(rawManifest())");
  const m = await img.manifest();
  const rawConfig = await img.rawConfig();
  if (sha256(rawConfig) !== m.config.digest || rawConfig.byteLength !== m.config.size) fail("config descriptor");
  const config = await img.config();
  const layers = await img.layers();
  if (layers.length !== m.layers.length || config.rootfs.diff_ids.length !== layers.length) fail("layer counts differ");
  for (const [i, l] of layers.entries()) {
    const d = m.layers[i];
    if ((await l.digest()) !== d.digest || (await l.size()) !== d.size || l.mediaType !== d.mediaType) fail(`layer ${i} descriptor`);
    if ((await l.diffId()) !== config.rootfs.diff_ids[i]) fail(`layer ${i} diffId vs config`);
    const c = await digestOfStream(await l.compressed());
    if (c.digest !== d.digest || c.size !== d.size) fail(`layer ${i} compressed bytes hash to ${c.digest}`);
    const u = await digestOfStream(await l.uncompressed());
    if (u.digest !== config.rootfs.diff_ids[i]) fail(`layer ${i} uncompressed bytes hash to ${u.digest}`);
    if ((await img.layerByDigest(d.digest)) !== l && (await (await img.layerByDigest(d.digest)).digest()) !== d.digest) fail("layerByDigest");
  }
}
