// Fixed-seed fuzzing of readers of untrusted bytes not fuzzed elsewhere: registry manifests and indexes,
// store manifests and image configs, Docker config.json, and .dockerignore. Each input either parses or
// fails with the reader's KbError code; anything else (TypeError, RangeError, a hang) fails the test.

import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KbError } from "../../src/errors.ts";
import { compileIgnore, parseDockerignore } from "../../src/context/dockerignore.ts";
import { openContext } from "../../src/context/index.ts";
import { rawTar, type RawEntry } from "../kit/hostile-layers.ts";
import { gzipSync } from "node:zlib";
import type { Digest } from "../../src/image/types.ts";
import { dockerConfigCredentials, parseManifestDocument, readDockerConfig, RemoteImage } from "../../src/registry/index.ts";
import { imageFromBlobs, type BlobSource } from "../../src/store/index.ts";
import { prng, randomImage } from "../kit/random-image.ts";
import { mutateBytes, mutateJson, pick, randomText } from "./_mutate.ts";
import { iterations, record, Tally } from "./_record.ts";

const N = iterations(1500);
/** Per-test limit: generous, the loops are bounded by N (the long mode runs 100 000 inputs per reader). */
const TIMEOUT = 60_000 + N * 10;
const enc = new TextEncoder();
const dec = new TextDecoder();
const sha = (b: Uint8Array): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Runs `fn` on each input; counts outcomes; fails on the first error that is not a KbError of `codes`. */
async function fuzz(name: string, codes: string[], inputs: (i: number) => unknown, fn: (input: never) => unknown): Promise<Tally> {
  const tally = new Tally();
  for (let i = 0; i < N; i++) {
    const input = inputs(i);
    try {
      await fn(input as never);
      tally.add("ok");
    } catch (e) {
      if (!(e instanceof KbError) || !codes.includes(e.code)) {
        const shown = input instanceof Uint8Array ? dec.decode(input) : JSON.stringify(input);
        throw new Error(`${name}: input ${i} threw ${(e as Error)?.name}: ${(e as Error)?.message}\ninput: ${shown?.slice(0, 2000)}`);
      }
      expect(e.message).toMatch(/^Cannot /);
      tally.add(e.code);
    }
  }
  record("fuzz", name, tally.total, tally.toString());
  return tally;
}

/** A document mutated structurally half the time and byte-wise otherwise. */
function mutant(rnd: () => number, doc: unknown): Uint8Array {
  if (rnd() < 0.5) {
    let d = doc;
    for (let k = 1 + pick(rnd, 3); k > 0; k--) d = mutateJson(rnd, d);
    return enc.encode(JSON.stringify(d));
  }
  return mutateBytes(rnd, enc.encode(JSON.stringify(doc)));
}

const img = randomImage({ seed: 7, layers: 2, files: 1 });
const manifestBytes = await img.rawManifest();
const configBytes = await img.rawConfig();
const manifest = JSON.parse(dec.decode(manifestBytes));
const config = JSON.parse(dec.decode(configBytes));
const index = {
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{ mediaType: manifest.mediaType, digest: sha(manifestBytes), size: manifestBytes.length, platform: { os: "linux", architecture: "amd64" } }],
};

describe("fuzzing readers of untrusted bytes (fixed seeds)", () => {
  test("`parseManifestDocument()` accepts or rejects mutated manifests and indexes with MANIFEST_INVALID", async () => {
    const rnd = prng(101);
    const types = [null, "application/json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "text/html"];
    const t = await fuzz("registry manifest/index documents", ["MANIFEST_INVALID"], () => ({
      bytes: mutant(rnd, rnd() < 0.5 ? manifest : index),
      type: types[pick(rnd, types.length)],
    }), ({ bytes, type }: { bytes: Uint8Array; type: string | null }) => parseManifestDocument("fuzz/x:1", bytes, type));
    expect(t.counts.get("MANIFEST_INVALID")).toBeGreaterThan(N / 4);
  }, TIMEOUT);

  test("`RemoteImage` parses mutated manifests and configs without a stray TypeError", async () => {
    const rnd = prng(102);
    const { parseReference } = await import("../../src/image/index.ts");
    const ref = parseReference("127.0.0.1:1/fuzz/x:1");
    await fuzz("remote image manifest + config", ["MANIFEST_INVALID"], () => mutant(rnd, manifest), async (bytes: Uint8Array) => {
      const ri = new RemoteImage(undefined as never, ref, { bytes, mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(bytes) });
      await ri.manifest();
      await ri.layers();
    });
  }, TIMEOUT);

  test("`imageFromBlobs()` accepts or rejects mutated manifests and configs with MANIFEST_INVALID", async () => {
    const rnd = prng(103);
    let currentConfig = configBytes;
    const source: BlobSource = {
      open: async (d) => {
        if (d !== sha(currentConfig) && d !== manifest.config.digest) throw new KbError("STORE", `Cannot find blob "${d}": not in the fuzz source`);
        return new Blob([currentConfig as Uint8Array<ArrayBuffer>]).stream();
      },
    };
    await fuzz("store manifest + image config", ["MANIFEST_INVALID", "STORE"], () => {
      const which = rnd();
      currentConfig = which < 0.6 ? mutant(rnd, config) : configBytes;
      return which < 0.6 ? manifestBytes : mutant(rnd, manifest);
    }, async (bytes: Uint8Array) => {
      const image = await imageFromBlobs(source, bytes);
      await image.config();
      for (const l of await image.layers()) await l.diffId();
    });
  }, TIMEOUT);

  test("`readDockerConfig()` and credential lookup accept or reject mutated config.json with CREDENTIALS", async () => {
    const rnd = prng(104);
    const dir = mkdtempSync(path.join(tmpdir(), "kb-fuzz-cfg-"));
    const file = path.join(dir, "config.json");
    const good = {
      auths: {
        "127.0.0.1:5000": { auth: Buffer.from("user:pa:ss").toString("base64") },
        "https://index.docker.io/v1/": { username: "u", password: "p" },
        "ghcr.io": { identitytoken: "tok" },
      },
      credHelpers: { "example.invalid": "kb-fuzz-missing-helper" },
    };
    try {
      await fuzz("docker config.json", ["CREDENTIALS"], () => mutant(rnd, good), async (bytes: Uint8Array) => {
        writeFileSync(file, bytes);
        readDockerConfig(file);
        const src = dockerConfigCredentials([file]);
        for (const host of ["127.0.0.1:5000", "docker.io", "ghcr.io"]) await src.get(host);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, TIMEOUT);

  test("`parseDockerignore()` + `compileIgnore()` accept or reject random pattern files with DOCKERIGNORE_SYNTAX", async () => {
    const rnd = prng(105);
    const alpha = "ab/*?[]!^-\\.#\n \t**{}\u00e9\u0000";
    const paths = Array.from({ length: 40 }, () => randomText(rnd, "ab/.-\u00e9*[", 24) || "a");
    let slowestMs = 0;
    await fuzz(".dockerignore patterns", ["DOCKERIGNORE_SYNTAX"], () => randomText(rnd, alpha, 120), (text: string) => {
      const m = compileIgnore(parseDockerignore(text));
      const t0 = performance.now();
      for (const p of paths) m.matches(p);
      m.canReincludeUnder("a/b");
      slowestMs = Math.max(slowestMs, performance.now() - t0);
    });
    record("fuzz", ".dockerignore slowest 40-path match (ms)", Math.round(slowestMs * 10) / 10, "no exponential backtracking");
  }, TIMEOUT);

  test("`openContext(\"-\")` opens or rejects mutated context tars, never writing outside its temp dir or leaving it", async () => {
    const rnd = prng(106);
    const entries: RawEntry[] = [
      { name: "Dockerfile", content: "FROM scratch\nCOPY . /\n" },
      { name: ".dockerignore", content: "*.log\n!keep.log\n" },
      { name: "src/", type: "5" },
      { name: "src/a.txt", content: "a".repeat(700) },
      { name: "src/link", type: "2", link: "a.txt" },
      { name: "src/hard", type: "1", link: "src/a.txt" },
      { name: "keep.log", content: "keep" },
    ];
    const odd = ["../escape", "/abs", "src/../../x", "", ".", "Dockerfile/x", "a\u0000b", "x".repeat(99), ".wh..wh..opq", "src/.wh.a.txt"];
    const tmp = mkdtempSync(path.join(tmpdir(), "kb-fuzz-ctx-"));
    const outside = mkdtempSync(path.join(tmpdir(), "kb-fuzz-outside-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await fuzz("context tar (stdin)", ["CONTEXT", "LAYER_INVALID", "LAYER_EXTRACT", "DOCKERFILE_SYNTAX", "DOCKERIGNORE_SYNTAX"], () => {
        let tar: Uint8Array;
        if (rnd() < 0.5) {
          const es = entries.map((e) => ({ ...e }));
          for (let k = 1 + pick(rnd, 3); k > 0; k--) {
            const e = es[pick(rnd, es.length)];
            const f = pick(rnd, 4);
            if (f === 0) e.name = odd[pick(rnd, odd.length)].replace("escape", path.relative("/", outside) + "/escape");
            else if (f === 1) e.type = "0123456LKxg"[pick(rnd, 11)];
            else if (f === 2) e.link = odd[pick(rnd, odd.length)];
            else e.size = pick(rnd, 4096);
          }
          tar = rawTar(es);
        } else tar = mutateBytes(rnd, rawTar(entries));
        return rnd() < 0.3 ? gzipSync(tar) : tar;
      }, async (bytes: Uint8Array) => {
        const ctx = await openContext("-", { stdin: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream() });
        await ctx.cleanup();
        expect(readdirSync(tmp)).toEqual([]);
      });
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(tmp, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  }, TIMEOUT);
});
