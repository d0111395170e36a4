import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { isKbError } from "../errors.ts";
import { collect, file, has, iter, node, readAll, run, streamOf, tarOf, tempDir } from "../../test/kit/tar-streams.ts";
import { createTarStream, type TarInput } from "./tar.ts";

const longDir = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(60)}`;
const sample = (): TarInput[] => [
  node("dir", "dir", { mode: 0o1777 }),
  file("dir/hello.txt", "hello world\n", { uid: 1000, gid: 1000, uname: "u", gname: "g" }),
  file("empty", ""),
  file(`${longDir}/${"n".repeat(90)}.txt`, "long name"),
  file(`x/${"z".repeat(150)}`, "very long basename"),
  file("unicodé/日本語/ファイル.txt", "unicode"),
  file("bigids", "ids", { uid: 3_000_000_000, gid: 2_097_152 }),
  file("xattrs", "x", { xattrs: { "user.a": "1", "security.capability": "\x01\x00\x00\x02\xff\x00" } }),
  file("frac", "t", { mtime: 1700000000.5 }),
  file("suid", "s", { mode: 0o4755 }),
  node("link", "symlink", { linkname: "dir/hello.txt" }),
  node("longlink", "symlink", { linkname: `/${longDir}/${"t".repeat(120)}` }),
  node("hard", "hardlink", { linkname: "dir/hello.txt", mode: 0o644 }),
  node("dev/null", "char", { devmajor: 1, devminor: 3, mode: 0o666 }),
  node("dev/sda", "block", { devmajor: 8, devminor: 0, mode: 0o660 }),
  node("fifo", "fifo", { mode: 0o600 }),
  file("paxextra", "p", { pax: { "kb.note": "kept" } }),
];

describe("createTarStream()", () => {
  test("round-trips every entry kind through readTar()", async () => {
    const inputs = sample();
    const back = await readAll(await tarOf(inputs));
    expect(back.map((b) => b.entry)).toEqual(inputs.map((i) => i.entry));
    for (let i = 0; i < inputs.length; i++) {
      expect(back[i].data).toEqual((inputs[i].body as Uint8Array | undefined) ?? new Uint8Array(0));
    }
  });

  test("gives byte-identical output for the same entries", async () => {
    const a = await tarOf(sample());
    const b = await tarOf(sample());
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(a.length % 512).toBe(0);
  });

  test("errors when a stream body is shorter or longer than its size", async () => {
    for (const n of [3, 5]) {
      const body = streamOf(new Uint8Array(n));
      const tar = createTarStream(iter([{ entry: { ...file("f", "1234").entry, size: 4 }, body }]));
      const e = await collect(tar).catch((x) => x);
      expect(isKbError(e, "LAYER_INVALID")).toBe(true);
      expect(String(e.message)).toContain('"f"');
    }
  });

  test("errors on a bytes body of the wrong size and on invalid fields", async () => {
    const cases: TarInput[] = [
      { entry: { ...file("f", "ab").entry, size: 3 }, body: new Uint8Array(2) },
      { entry: { ...file("f", "").entry, uid: -1 } },
      { entry: { ...file("f", "").entry, path: "" } },
      { entry: { ...node("l", "symlink"), linkname: undefined }.entry },
    ];
    for (const c of cases) expect(isKbError(await tarOf([c]).catch((x) => x), "LAYER_INVALID")).toBe(true);
  });

  test("copies a borrowed body before it asks for the next entry, which reuses the buffer", async () => {
    const shared = new Uint8Array(200_000);
    const sizes = [10, 100_000, 70_000, 5]; // around the writer's 64 KiB gathering limit
    async function* lent(): AsyncGenerator<TarInput> {
      for (const [i, size] of sizes.entries()) {
        shared.fill(65 + i, 0, size); // the producer overwrites what it lent the previous entry
        yield { ...file(`f${i}`, ""), entry: { ...file(`f${i}`, "").entry, size }, body: shared.subarray(0, size), borrowed: true };
      }
    }
    // Chunks kept by reference until the end, as a queue downstream may keep them.
    const chunks: Uint8Array[] = [];
    for await (const c of createTarStream(lent())) chunks.push(c);
    const back = await readAll(streamOf(...chunks));
    expect(back.map((b) => [b.entry.path, b.data.length, b.data.every((x) => x === 65 + Number(b.entry.path.slice(1)))])).toEqual(
      sizes.map((size, i) => [`f${i}`, size, true]),
    );
  });

  test("writes a stream body of 0 bytes and many chunks", async () => {
    const chunks = Array.from({ length: 100 }, (_, i) => new Uint8Array(1000).fill(i));
    const tar = await tarOf([{ entry: { ...file("big", "").entry, size: 100_000 }, body: streamOf(...chunks) }]);
    const [m] = await readAll(tar);
    expect(m.data.length).toBe(100_000);
    expect(m.data[99_999]).toBe(99);
  });

  test.skipIf(!has("tar"))("output is read by GNU tar, xattrs included", async () => {
    const dir = tempDir();
    const tarPath = path.join(dir, "t.tar");
    writeFileSync(tarPath, await tarOf(sample().filter((i) => !["char", "block"].includes(i.entry.type))));
    // literal names whatever the locale (in the C locale GNU tar prints UTF-8 names as octal escapes)
    const list = run("tar", ["--quoting-style=literal", "-tvf", tarPath]);
    expect(list.code).toBe(0);
    expect(list.out).toContain(`${longDir}/${"n".repeat(90)}.txt`);
    expect(list.out).toContain("unicodé/日本語/ファイル.txt");
    expect(list.out).toContain(`longlink -> /${longDir}/${"t".repeat(120)}`);
    expect(list.out).toContain("3000000000/2097152");
    const out = path.join(dir, "out");
    run("mkdir", [out]);
    const x = run("tar", ["--xattrs", "--xattrs-include=user.*", "-xf", tarPath, "-C", out]);
    expect(x.code).toBe(0);
    expect(run("cat", [path.join(out, "dir/hello.txt")]).out).toBe("hello world\n");
    const attr = run("getfattr", ["--only-values", "-n", "user.a", path.join(out, "xattrs")]);
    if (attr.code === 0) expect(attr.out).toBe("1");
    run("rm", ["-rf", dir]);
  });
});
