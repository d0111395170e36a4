import { expect, test } from "bun:test";
import { resolveInStage } from "./resolve-in-stage.ts";

// A stage as its layer indexes describe it: directories, files, and symlinks with their targets.
const dirs = new Set(["y", "y/sub", "q", "usr", "usr/bin", "a"]);
const links: Record<string, string> = {
  x: "/y", r: "../y", d: "/q/deep", s: "/y/sub", bin: "usr/bin", up: "../../../../../..", loop1: "loop2", loop2: "loop1", tofile: "/file",
};
const files = new Set(["file"]);
const fs = {
  async visible(p: string) {
    if (dirs.has(p)) return { kind: "dir" as const, layer: 0 };
    if (p in links) return { kind: "other" as const, layer: 0, link: links[p] };
    if (files.has(p)) return { kind: "other" as const, layer: 0 };
    return undefined;
  },
};

test("a path with no symlink on its way stays as written, missing parts included", async () => {
  expect(await resolveInStage(fs, "/y/sub/new/deeper")).toBe("/y/sub/new/deeper");
  expect(await resolveInStage(fs, "/nothing/here")).toBe("/nothing/here");
  expect(await resolveInStage(fs, "/")).toBe("/");
});

test("absolute and relative links are followed inside the stage; an absolute one starts at its root", async () => {
  expect(await resolveInStage(fs, "/x/ctx")).toBe("/y/ctx");
  expect(await resolveInStage(fs, "/r/tt")).toBe("/y/tt");
  expect(await resolveInStage(fs, "/d/c/e")).toBe("/q/deep/c/e");
  expect(await resolveInStage(fs, "/s/m")).toBe("/y/sub/m");
  expect(await resolveInStage(fs, "/bin/app")).toBe("/usr/bin/app"); // Debian's merged /usr
});

test("the last part is followed too (a link to a file or a dangling one), as Docker's COPY does", async () => {
  expect(await resolveInStage(fs, "/x")).toBe("/y");
  expect(await resolveInStage(fs, "/tofile")).toBe("/file");
  expect(await resolveInStage(fs, "/d")).toBe("/q/deep");
});

test("`..` in a link never climbs above the stage's root", async () => {
  expect(await resolveInStage(fs, "/up/etc/m")).toBe("/etc/m");
});

test("a loop of links is refused with the path named", async () => {
  await expect(resolveInStage(fs, "/loop1/m")).rejects.toThrow('Cannot place "/loop1/m" in the image: more than 40 symbolic links');
});

test("a file on the way is refused (Docker: not a directory); a file at the end is the path", async () => {
  await expect(resolveInStage(fs, "/file/m")).rejects.toThrow('Cannot place "/file/m" in the image: "/file" is a file there, not a directory');
  await expect(resolveInStage(fs, "/tofile/m")).rejects.toThrow('"/file" is a file there');
  expect(await resolveInStage(fs, "/file")).toBe("/file");
  expect(await resolveInStage(fs, "/file/.")).toBe("/file");
});
