// stat-walk tests: a tree changed by hand between indexTree() and diffAgainstIndex().

import { afterAll, expect, test } from "bun:test";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { diffAgainstIndex, indexTree } from "./stat-walk.ts";

const base = mkdtempSync(path.join(tmpdir(), "kb-statwalk-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

test("`diffAgainstIndex()` yields added, changed and chmod-ed paths with their parents, and whiteouts for deletions", async () => {
  const root = path.join(base, "t1");
  for (const d of ["a/deep", "gone/sub", "same", "skipme"]) mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ["a/deep/change", "a/deep/keep", "a/chmod", "gone/sub/x", "same/x", "del"]) writeFileSync(path.join(root, f), f);
  const index = await indexTree(root, { skip: ["/skipme"] });
  await Bun.sleep(15); // mtime granularity
  writeFileSync(path.join(root, "a/deep/change"), "changed!");
  chmodSync(path.join(root, "a/chmod"), 0o600);
  rmSync(path.join(root, "gone"), { recursive: true });
  rmSync(path.join(root, "del"));
  writeFileSync(path.join(root, "new"), "n");
  linkSync(path.join(root, "new"), path.join(root, "new2"));
  symlinkSync("new", path.join(root, "sym"));
  writeFileSync(path.join(root, "skipme/ignored"), "x");
  const out: string[] = [];
  for await (const { entry, body } of diffAgainstIndex(root, index, { skip: ["skipme"] })) {
    await body?.cancel();
    out.push(`${entry.type} ${entry.path}${entry.linkname ? ` -> ${entry.linkname}` : ""} ${entry.mode.toString(8)}`);
  }
  expect(out).toEqual([
    "file .wh.del 0", "file .wh.gone 0", // a dir's whiteouts come before its entries
    "dir a 755", "file a/chmod 600", "dir a/deep 755", "file a/deep/change 644",
    "file new 644", "hardlink new2 -> new 644", "symlink sym -> new 777",
  ]);
});

test("`diffAgainstIndex()` of an unchanged tree is empty", async () => {
  const root = path.join(base, "t2");
  mkdirSync(path.join(root, "x/y"), { recursive: true });
  writeFileSync(path.join(root, "x/y/z"), "z");
  const index = await indexTree(root);
  const out = [];
  for await (const e of diffAgainstIndex(root, index)) out.push(e);
  expect(out).toEqual([]);
});
