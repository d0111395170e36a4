import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isKbError } from "../errors.ts";
import { collect, file, has, prng, readAll, run, streamOf, tarOf, tempDir } from "../../test/kit/tar-streams.ts";
import { isTarHeader, readTar } from "./untar.ts";

const longName = `${"a".repeat(80)}/${"b".repeat(80)}/${"c".repeat(120)}.txt`;

function makeTree(): string {
  const dir = tempDir();
  const root = path.join(dir, "src");
  mkdirSync(path.join(root, path.dirname(longName)), { recursive: true });
  writeFileSync(path.join(root, longName), "long\n");
  writeFileSync(path.join(root, "small"), "x".repeat(1000));
  symlinkSync("c".repeat(150), path.join(root, "ln"));
  return dir;
}

describe("readTar()", () => {
  for (const format of ["gnu", "pax", "ustar"] as const) {
    test.skipIf(!has("tar"))(`reads GNU tar "--format=${format}" output (long names, links)`, async () => {
      const dir = makeTree();
      const tarPath = path.join(dir, "t.tar");
      const r = run("tar", [`--format=${format}`, "-cf", tarPath, "-C", path.join(dir, "src"), "."]);
      if (format === "ustar") {
        expect(r.code).not.toBe(0); // ustar cannot hold the 150-byte link target; GNU tar refuses
        return;
      }
      expect(r.code).toBe(0);
      const got = await readAll(readFileSync(tarPath));
      const byPath = new Map(got.map((g) => [g.entry.path, g]));
      expect(new TextDecoder().decode(byPath.get(`./${longName}`)!.data)).toBe("long\n");
      expect(byPath.get("./small")!.entry.size).toBe(1000);
      expect(byPath.get("./ln")!.entry).toMatchObject({ type: "symlink", linkname: "c".repeat(150) });
      expect(byPath.get(".")!.entry.type).toBe("dir");
      run("rm", ["-rf", dir]);
    });
  }

  test.skipIf(!has("busybox"))("reads busybox tar output", async () => {
    const dir = makeTree();
    const tarPath = path.join(dir, "b.tar");
    expect(run("busybox", ["tar", "-cf", tarPath, "-C", path.join(dir, "src"), "small", "ln"]).code).toBe(0);
    const got = await readAll(readFileSync(tarPath));
    expect(got.map((g) => g.entry.path)).toEqual(["small", "ln"]);
    expect(got[1].entry.linkname).toBe("c".repeat(150));
    run("rm", ["-rf", dir]);
  });

  test("skips bodies the consumer never reads, and cancelled ones", async () => {
    const tar = await tarOf([file("a", "x".repeat(5000)), file("b", "y".repeat(700)), file("c", "zz")]);
    const seen: string[] = [];
    for await (const { entry, body } of readTar(streamOf(tar.subarray(0, 1000), tar.subarray(1000)))) {
      seen.push(entry.path);
      if (entry.path === "b") await body.cancel();
      if (entry.path === "c") expect(new TextDecoder().decode(await collect(body))).toBe("zz");
    }
    expect(seen).toEqual(["a", "b", "c"]);
  });

  test("accepts a tar without trailer and ignores bytes after the trailer", async () => {
    const tar = await tarOf([file("a", "x")]);
    expect((await readAll(tar.subarray(0, 1024))).length).toBe(1);
    const extra = new Uint8Array(tar.length + 4096);
    extra.set(tar);
    extra.fill(7, tar.length);
    expect((await readAll(extra)).length).toBe(1);
  });

  const malformed: [string, (t: Uint8Array) => Uint8Array][] = [
    ["a bad checksum", (t) => { t[10] ^= 1; return t; }],
    ["a truncated header", (t) => t.subarray(0, 300)],
    ["a truncated body", (t) => t.subarray(0, 512 + 100)],
    ["a non-octal size", (t) => { t.set(new TextEncoder().encode("zzzz"), 124); fixSum(t); return t; }],
    ["an absurd base-256 size", (t) => { t.fill(0xff, 124, 136); t[124] = 0x80; fixSum(t); return t; }],
    ["an unknown type", (t) => { t[156] = "Q".charCodeAt(0); fixSum(t); return t; }],
    ["data after a single zero block", (t) => { const o = new Uint8Array(2048); o[600] = 1; return o; }],
  ];
  for (const [name, mutate] of malformed) {
    test(`rejects ${name} with LAYER_INVALID naming the offset`, async () => {
      const t = mutate(await tarOf([file("victim", "x".repeat(2000))]));
      const e = await readAll(t).catch((x) => x);
      expect(isKbError(e, "LAYER_INVALID")).toBe(true);
      expect(e.message).toMatch(/offset \d+/);
    });
  }

  test("rejects a bad PAX record and an oversized PAX header", async () => {
    const t = await tarOf([file("p", "1", { pax: { "kb.k": "v" } })]);
    const bad = t.slice();
    bad[512] = "7".charCodeAt(0); // the record no longer ends with a newline
    expect(isKbError(await readAll(bad).catch((x) => x), "LAYER_INVALID")).toBe(true);
    const big = await tarOf([file("p", "1", { pax: { "kb.k": "v".repeat(5000) } })]);
    const e = await readAll(streamOf(big)).catch((x) => x);
    expect(e).toHaveLength(1);
    let err: unknown;
    try {
      for await (const m of readTar(streamOf(big), { maxHeaderBytes: 1000 })) await m.body.cancel();
    } catch (x) {
      err = x;
    }
    expect(isKbError(err, "LAYER_INVALID")).toBe(true);
  });

  test("stops at maxEntries", async () => {
    const t = await tarOf([file("a", ""), file("b", ""), file("c", "")]);
    let err: unknown;
    try {
      for await (const _ of readTar(streamOf(t), { maxEntries: 2 }));
    } catch (x) {
      err = x;
    }
    expect(isKbError(err, "LAYER_INVALID")).toBe(true);
  });

  test("fixed-seed fuzz: mutated tars only ever fail with KbError", async () => {
    const base = await tarOf([
      file("a", "x".repeat(700)), file(`${"l".repeat(120)}/f`, "pax"), file("x", "1", { xattrs: { "user.k": "v" } }),
    ]);
    const rnd = prng(42);
    const n = Number(process.env.KB_FUZZ_ITERATIONS ?? 300);
    for (let i = 0; i < n; i++) {
      const t = base.slice(0, rnd() < 0.2 ? Math.floor(rnd() * base.length) : base.length);
      for (let k = 1 + Math.floor(rnd() * 8); k > 0; k--) t[Math.floor(rnd() * t.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.5) for (let b = 0; b + 512 <= t.length; b += 512) if (rnd() < 0.3) fixSum(t.subarray(b, b + 512));
      const r = await readAll(t).catch((x) => x);
      if (!Array.isArray(r)) expect(isKbError(r, "LAYER_INVALID")).toBe(true);
    }
  });
});

/** Recomputes a header block's checksum after a deliberate edit. */
function fixSum(h: Uint8Array): void {
  let s = 0;
  for (let i = 0; i < 512; i++) s += i >= 148 && i < 156 ? 32 : h[i];
  h.set(new TextEncoder().encode(`${s.toString(8).padStart(6, "0")}\0 `), 148);
}

describe("isTarHeader()", () => {
  test.skipIf(!has("tar"))("is true for the first block of GNU tar's formats, V7 included, and false for anything else", () => {
    const dir = makeTree();
    for (const format of ["gnu", "pax", "ustar", "v7"] as const) {
      const tarPath = path.join(dir, `${format}.tar`);
      expect(run("tar", [`--format=${format}`, "-cf", tarPath, "-C", path.join(dir, "src"), "small"]).code).toBe(0);
      const block = readFileSync(tarPath).subarray(0, 512);
      expect(isTarHeader(block)).toBe(true);
      const bad = new Uint8Array(block);
      bad[0] ^= 1; // the name changes, the checksum does not
      expect(isTarHeader(bad)).toBe(false);
      expect(isTarHeader(block.subarray(0, 511))).toBe(false);
    }
    expect(isTarHeader(new Uint8Array(1024))).toBe(false); // an empty archive: Go's reader finds no entry either
    expect(isTarHeader(new TextEncoder().encode("plain text ".repeat(60)))).toBe(false);
  });
});
