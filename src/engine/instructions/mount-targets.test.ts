import { afterAll, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveMountTarget } from "./mount-targets.ts";

// Two layer trees on disk, the upper one replacing /a; `visible` answers as the stage's layer indexes would.
const base = mkdtempSync(join(tmpdir(), "kb-mount-targets-"));
const lower = join(base, "lower");
const upper = join(base, "upper");
mkdirSync(join(lower, "y/sub"), { recursive: true });
mkdirSync(join(lower, "q"), { recursive: true });
symlinkSync("/y", join(lower, "x"));
symlinkSync("../y", join(lower, "r"));
symlinkSync("/q/deep", join(lower, "d"));
symlinkSync("/etc", join(lower, "a")); // replaced by a directory in the upper layer
symlinkSync("../../../../../..", join(lower, "up"));
symlinkSync("loop2", join(lower, "loop1"));
symlinkSync("loop1", join(lower, "loop2"));
writeFileSync(join(lower, "file"), "f");
mkdirSync(join(upper, "a"), { recursive: true });
symlinkSync("/y/sub", join(upper, "s"));
const trees = [lower, upper];

const fs = {
  async visible(p: string) {
    for (let i = trees.length - 1; i >= 0; i--) {
      try {
        const st = lstatSync(join(trees[i]!, p));
        return { kind: st.isDirectory() ? ("dir" as const) : ("other" as const), layer: i };
      } catch {
        // not in this layer
      }
    }
    return undefined;
  },
};
afterAll(() => rmSync(base, { recursive: true, force: true }));

test("a target with no symlink on its way stays as written, missing parts included", async () => {
  expect(await resolveMountTarget(fs, trees, "/y/sub/new/deeper")).toBe("/y/sub/new/deeper");
  expect(await resolveMountTarget(fs, trees, "/nothing/here")).toBe("/nothing/here");
});

test("absolute and relative links are followed inside the stage; an absolute one starts at its root", async () => {
  expect(await resolveMountTarget(fs, trees, "/x/ctx")).toBe("/y/ctx");
  expect(await resolveMountTarget(fs, trees, "/r/tt")).toBe("/y/tt");
  expect(await resolveMountTarget(fs, trees, "/d/c/e")).toBe("/q/deep/c/e");
  expect(await resolveMountTarget(fs, trees, "/s/m")).toBe("/y/sub/m"); // a link of the upper layer
  expect(await resolveMountTarget(fs, trees, "/x")).toBe("/y"); // the last part is followed too, as runc does
});

test("the layer that is seen decides: a link replaced by a directory is not followed", async () => {
  expect(await resolveMountTarget(fs, trees, "/a/m")).toBe("/a/m");
});

test("`..` in a link never climbs above the stage's root", async () => {
  expect(await resolveMountTarget(fs, trees, "/up/etc/m")).toBe("/etc/m");
});

test("a loop of links is refused with the target named", async () => {
  await expect(resolveMountTarget(fs, trees, "/loop1/m")).rejects.toThrow('Cannot mount at "/loop1/m": more than 40 symbolic links');
});

test("a file on the way is left for the sandbox to refuse", async () => {
  expect(await resolveMountTarget(fs, trees, "/file/m")).toBe("/file/m");
});
