import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { listTree } from "../../test/kit/kb.ts";
import { collect, file, node, readAll, streamOf, tarOf, tempDir } from "../../test/kit/tar-streams.ts";
import { extractTar } from "./extract.ts";
import { squashLayers } from "./squash.ts";
import { createTarStream, type TarInput } from "./tar.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Unpacks `base` then `layers` in order, whiteouts applied: the state an image's layers give. */
async function unpack(layers: Uint8Array[]): Promise<ReturnType<typeof listTree>> {
  const root = tempDir("kb-squash-");
  dirs.push(root);
  for (const l of layers) await extractTar(streamOf(l), root, { whiteouts: "apply", chown: false, devices: "skip" });
  return listTree(root);
}

async function squash(layers: Uint8Array[]): Promise<Uint8Array> {
  return collect(createTarStream(squashLayers(layers.map((l) => async () => streamOf(l)))));
}

const dir = (p: string) => node(p, "dir", { mode: 0o755 });
const base = () => tarOf([
  dir("etc"), file("etc/keep", "k"), file("etc/gone", "g"), dir("opt"), dir("opt/tool"), file("opt/tool/old", "o"),
  dir("var"), dir("var/cache"), file("var/cache/a", "a"), file("var/cache/b", "b"), dir("data"), file("data/f", "f"), file("swap", "s"),
]);

test("squashed layers give the same tree as the layers one by one, and only what survives", async () => {
  const b = await base();
  const layers = await Promise.all([
    tarOf([file("etc/new", "1"), file("big", "x".repeat(10000)), dir("app"), file("app/v", "1"), node("app/link", "symlink", { linkname: "v" })]),
    tarOf([file("etc/new", "2"), file("etc/.wh.gone", ""), file(".wh.big", ""), file("opt/.wh.tool", ""), file("var/cache/.wh..wh..opq", ""), file("var/cache/c", "c")]),
    tarOf([dir("opt/tool"), file("opt/tool/fresh", "n"), file("data", "now a file"), dir("swap"), file("swap/in", "i"), file("app/v", "3"), node("app/hard", "hardlink", { linkname: "app/v" })]),
  ]);
  const want = await unpack([b, ...layers]);
  const s = await squash(layers);
  expect(await unpack([b, s])).toEqual(want);
  // what a later layer deleted is not carried: the 10 kB file left no entry (a whiteout for it is harmless)
  const paths = (await readAll(s)).map((m) => m.entry.path);
  expect(paths).not.toContain("big");
  expect(paths.filter((p) => p === "etc/new")).toHaveLength(1);
  expect(want["opt/tool/old"]).toBeUndefined();
  expect(want["var/cache/a"]).toBeUndefined();
  expect(want["swap/in"]).toBeDefined();
});

test("a directory deleted and made again hides what it held below; one cleared twice stays one marker", async () => {
  const b = await base();
  const layers = await Promise.all([
    tarOf([file(".wh.etc", "")]),
    tarOf([file("etc/only", "x")]), // the parent comes back implicitly
    tarOf([file("var/.wh..wh..opq", ""), file("var/x", "1")]),
    tarOf([file("var/.wh..wh..opq", ""), file("var/y", "2")]),
  ]);
  const want = await unpack([b, ...layers]);
  expect(await unpack([b, await squash(layers)])).toEqual(want);
  expect(Object.keys(want).filter((p) => p.startsWith("etc/"))).toEqual(["etc/only"]);
});

test("a hard link whose target a later layer replaced or deleted becomes a file with the bytes it shared", async () => {
  const b = await base();
  for (const later of [[file("t", "2")], [file(".wh.t", "")]]) {
    const layers = await Promise.all([tarOf([file("t", "1"), node("h", "hardlink", { linkname: "t" }), node("k", "hardlink", { linkname: "t" })]), tarOf(later)]);
    const want = await unpack([b, ...layers]);
    expect(want["h"]).toMatchObject({ type: "file", size: 1 });
    const squashed = await squash(layers);
    expect(await unpack([b, squashed])).toEqual(want);
    const links = (await readAll(squashed)).filter((m) => m.entry.path === "h" || m.entry.path === "k").map((m) => [m.entry.path, m.entry.type, m.entry.linkname ?? ""]);
    expect(links).toEqual([["h", "file", ""], ["k", "hardlink", "h"]]); // still one inode for h and k
  }
  // an unchanged target keeps the link (one inode)
  const kept = await Promise.all([tarOf([file("t", "1"), node("h", "hardlink", { linkname: "t" })]), tarOf([file("other", "o")])]);
  const entries = await readAll(await squash(kept));
  expect(entries.find((m) => m.entry.path === "h")?.entry.type).toBe("hardlink");
});

test("no layers, or only whiteouts of things never there, give a valid layer", async () => {
  expect(await unpack([await base(), await squash([])])).toEqual(await unpack([await base()]));
  const only = await squash([await tarOf([file(".wh.nothing", "")] as TarInput[])]);
  expect(await unpack([await base(), only])).toEqual(await unpack([await base()]));
});
