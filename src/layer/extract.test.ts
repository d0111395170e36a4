import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isKbError } from "../errors.ts";
import { file, has, iter, node, prng, run, streamOf, tarOf, tempDir } from "../../test/kit/tar-streams.ts";
import { extractTar, type ExtractOptions } from "./extract.ts";
import type { TarInput } from "./tar.ts";

const isRoot = process.getuid?.() === 0;
const opts: ExtractOptions = { whiteouts: "apply", chown: false, devices: "skip" };
const dirs: string[] = [];
// Some entries are extracted without write permission: as a user who is not root, rm needs them opened first.
afterAll(() => dirs.forEach((d) => (spawnSync("chmod", ["-R", "u+rwx", d]), rmSync(d, { recursive: true, force: true }))));

/** A sentinel parent holding `root/` plus files outside it that no tar may touch. */
function sandbox(): { parent: string; root: string; outside: () => string[] } {
  const parent = tempDir("kb-extract-");
  dirs.push(parent);
  const root = path.join(parent, "root");
  mkdirSync(root);
  writeFileSync(path.join(parent, "victim"), "keep");
  mkdirSync(path.join(parent, "outside"));
  writeFileSync(path.join(parent, "outside", "file"), "keep");
  const outside = () => walk(parent).filter((p) => !p.startsWith("root/") && p !== "root").map((p) => `${p}:${readOr(path.join(parent, p))}`);
  return { parent, root, outside };
}
function readOr(p: string): string {
  const st = lstatSync(p);
  return st.isFile() ? readFileSync(p, "utf8") : st.isSymbolicLink() ? `->${readlinkSync(p)}` : "dir";
}
function walk(dir: string, pre = ""): string[] {
  return readdirSync(dir).flatMap((n) => {
    const rel = pre + n;
    return lstatSync(path.join(dir, n)).isDirectory() ? [rel, ...walk(path.join(dir, n), `${rel}/`)] : [rel];
  });
}
async function extract(root: string, inputs: TarInput[], o: Partial<ExtractOptions> = {}) {
  return extractTar(streamOf(await tarOf(inputs)), root, { ...opts, ...o });
}

describe("extractTar() with hostile archives", () => {
  const cases: [string, TarInput[], "error" | ((root: string) => void)][] = [
    ["a `..` path", [file("../victim", "pwned")], "error"],
    ["a nested `..` that climbs out", [file("a/../../outside/file", "pwned")], "error"],
    ["an absolute path (lands under root)", [file("/outside/file", "in")], (r) => expect(readFileSync(`${r}/outside/file`, "utf8")).toBe("in")],
    ["a symlink to / then a file under it", [node("evil", "symlink", { linkname: "/" }), file("evil/victim", "in")],
      (r) => expect(readFileSync(`${r}/victim`, "utf8")).toBe("in")],
    ["a symlink to ../.. then a file under it", [node("up", "symlink", { linkname: "../../.." }), file("up/outside/file", "in")],
      (r) => expect(readFileSync(`${r}/outside/file`, "utf8")).toBe("in")],
    ["a symlink chain leaving root", [node("a", "symlink", { linkname: "b/.." }), node("b", "symlink", { linkname: "/.." }), file("a/victim", "in")],
      (r) => expect(readFileSync(`${r}/victim`, "utf8")).toBe("in")],
    ["a symlink replaced by a file of the same name", [node("link", "symlink", { linkname: "../victim" }), file("link", "in")],
      (r) => expect(lstatSync(`${r}/link`).isFile()).toBe(true)],
    ["a symlink to outside replaced by a directory, then a file under it",
      [node("d", "symlink", { linkname: "../outside" }), node("d", "dir"), file("d/file", "in")],
      (r) => (expect(lstatSync(`${r}/d`).isDirectory()).toBe(true), expect(readFileSync(`${r}/d/file`, "utf8")).toBe("in"))],
    ["a symlink to outside replaced by a hardlink and by a symlink", [node("a", "symlink", { linkname: "../victim" }), file("f", "in"),
      node("a", "hardlink", { linkname: "f" }), node("b", "symlink", { linkname: "../outside" }), node("b", "symlink", { linkname: "f" })],
      (r) => (expect(lstatSync(`${r}/a`).ino).toBe(lstatSync(`${r}/f`).ino), expect(readlinkSync(`${r}/b`)).toBe("f"))],
    ["a hardlink to ../victim", [node("h", "hardlink", { linkname: "../victim" })], "error"],
    ["a hardlink to an absolute path outside", [node("h", "hardlink", { linkname: "/victim" })], "error"],
    ["a hardlink through a symlink to /", [node("s", "symlink", { linkname: "/" }), node("h", "hardlink", { linkname: "s/../victim" })], "error"],
    ["a whiteout naming `..`", [file(".wh...", "")], "error"],
    ["a whiteout climbing out", [file("../.wh.victim", "")], "error"],
    ["a whiteout through a symlink to /", [node("s", "symlink", { linkname: "/" }), file("s/.wh.victim", "")],
      (r) => expect(readdirSync(r)).toEqual(["s"])],
    ["an opaque whiteout through a symlink to ..", [node("s", "symlink", { linkname: ".." }), file("s/.wh..wh..opq", "")],
      (r) => expect(readdirSync(r)).toEqual(["s"])],
  ];
  for (const [name, inputs, expected] of cases) {
    test(`leaves nothing outside root for ${name}`, async () => {
      const { root, outside } = sandbox();
      const before = outside();
      const r = await extract(root, inputs).catch((e) => e);
      if (expected === "error") expect(isKbError(r)).toBe(true);
      else {
        expect(r instanceof Error ? r.message : "ok").toBe("ok");
        expected(root);
      }
      expect(outside()).toEqual(before);
    });
  }

  test("fixed-seed fuzz: mutated tars fail with KbError and never write outside root", async () => {
    const base = await tarOf([
      node("d", "dir"), file("d/f", "x".repeat(600)), node("s", "symlink", { linkname: "/" }), file("s/g", "y"),
      node("h", "hardlink", { linkname: "d/f" }), file("d/.wh.f", ""),
    ]);
    const rnd = prng(1234);
    const n = Number(process.env.KB_FUZZ_ITERATIONS ?? 60);
    const { root, outside } = sandbox();
    const before = outside();
    for (let i = 0; i < n; i++) {
      const t = base.slice();
      for (let k = 1 + Math.floor(rnd() * 6); k > 0; k--) t[Math.floor(rnd() * 2048)] = Math.floor(rnd() * 256);
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root);
      const r = await extractTar(streamOf(t), root, opts).catch((e) => e);
      if (r instanceof Error) expect(isKbError(r)).toBe(true);
    }
    expect(outside()).toEqual(before);
  });
});

describe("extractTar()", () => {
  test("applies whiteouts and opaque dirs, keeping what the same layer made", async () => {
    const { root } = sandbox();
    await extract(root, [file("a/old", "1"), file("a/keep", "1"), file("b/x", "1"), file("b/y", "1")]);
    await extract(root, [file("a/.wh.old", ""), file("b/new", "2"), file("b/.wh..wh..opq", "")]);
    expect(readdirSync(path.join(root, "a"))).toEqual(["keep"]);
    expect(readdirSync(path.join(root, "b"))).toEqual(["new"]);
  });

  test("keeps whiteouts as plain files in keep mode and as overlay whiteouts in keep-as-overlay", async () => {
    const { root } = sandbox();
    await extract(root, [file("a/.wh.x", ""), file("a/.wh..wh..opq", "")], { whiteouts: "keep" });
    expect(readdirSync(path.join(root, "a")).sort()).toEqual([".wh..wh..opq", ".wh.x"]);
    const r2 = path.join(root, "ov");
    mkdirSync(r2);
    await extract(r2, [node("a", "dir"), file("a/.wh.x", ""), file("a/.wh..wh..opq", "")], { whiteouts: "keep-as-overlay" });
    const st = lstatSync(path.join(r2, "a/x"));
    if (isRoot) expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    const ns = isRoot ? "trusted" : "user";
    if (has("getfattr")) expect(run("getfattr", ["--only-values", "-n", `${ns}.overlay.opaque`, path.join(r2, "a")]).out).toBe("y");
  });

  test("lets the last duplicate win and sets modes and mtimes after contents", async () => {
    const { root } = sandbox();
    const r = await extract(root, [
      file("x", "file first"), node("x", "dir"), node("y", "dir"), file("y", "file last"),
      node("ro", "dir", { mode: 0o555, mtime: 1000 }), file("ro/child", "c", { mode: 0o4755, mtime: 2000 }),
    ]);
    expect(r.entries).toBe(6);
    expect(lstatSync(path.join(root, "x")).isDirectory()).toBe(true);
    expect(readFileSync(path.join(root, "y"), "utf8")).toBe("file last");
    expect(statSync(path.join(root, "ro")).mode & 0o7777).toBe(0o555);
    expect(statSync(path.join(root, "ro")).mtimeMs).toBe(1_000_000);
    expect(statSync(path.join(root, "ro/child")).mode & 0o7777).toBe(0o4755);
    expect(statSync(path.join(root, "ro/child")).mtimeMs).toBe(2_000_000);
  });

  test("a later layer replaces what an earlier one made: a tree by a file, a file by a symlink, a symlink by a tree", async () => {
    const { root } = sandbox();
    await extract(root, [node("t", "dir"), file("t/deep", "x"), file("f", "old"), node("s", "symlink", { linkname: "f" }), file("h", "old")]);
    await extract(root, [file("t", "now a file", { mode: 0o640 }), node("f", "symlink", { linkname: "h" }), node("s", "dir"), file("s/in", "y"),
      file("g", "new"), node("h", "hardlink", { linkname: "g" })]);
    expect(readFileSync(path.join(root, "t"), "utf8")).toBe("now a file");
    expect(statSync(path.join(root, "t")).mode & 0o777).toBe(0o640);
    expect(readlinkSync(path.join(root, "f"))).toBe("h");
    expect(readFileSync(path.join(root, "s/in"), "utf8")).toBe("y");
    expect(lstatSync(path.join(root, "s")).isDirectory()).toBe(true);
    expect(statSync(path.join(root, "h")).ino).toBe(statSync(path.join(root, "g")).ino);
  });

  test("makes hardlinks, symlinks, fifos and (as root) devices, and chowns through idMap", async () => {
    const { root } = sandbox();
    const warnings: string[] = [];
    await extract(root, [
      file("f", "data", { uid: 1234, gid: 99 }), node("h", "hardlink", { linkname: "f" }), node("l", "symlink", { linkname: "f" }),
      node("p", "fifo", { mode: 0o600 }), node("null", "char", { devmajor: 1, devminor: 3, mode: 0o666 }),
    ], { chown: isRoot, idMap: (u, g) => [u + 1, g + 1], devices: "create", onWarning: (m) => warnings.push(m) });
    expect(statSync(path.join(root, "h")).ino).toBe(statSync(path.join(root, "f")).ino);
    expect(readlinkSync(path.join(root, "l"))).toBe("f");
    expect(lstatSync(path.join(root, "p")).isFIFO()).toBe(true);
    if (isRoot) {
      expect(lstatSync(path.join(root, "null")).isCharacterDevice()).toBe(true);
      expect(statSync(path.join(root, "f")).uid).toBe(1235);
    } else expect(warnings.length).toBe(1);
  });

  test("stops at maxBytes and fails a truncated tar", async () => {
    const { root } = sandbox();
    const bomb = await extract(root, [file("a", "x".repeat(5000)), file("b", "y".repeat(5000))], { maxBytes: 6000 }).catch((e) => e);
    expect(isKbError(bomb, "LAYER_INVALID")).toBe(true);
    const t = await tarOf([file("c", "z".repeat(5000))]);
    const cut = await extractTar(streamOf(t.subarray(0, 3000)), root, opts).catch((e) => e);
    expect(isKbError(cut, "LAYER_INVALID")).toBe(true);
  });
});
