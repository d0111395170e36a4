import { expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeOwnTree } from "./remove-own-tree.ts";

// As a user who is not root, rm alone fails on these dirs (root's rm does not need the fallback).
test("`removeOwnTree()` removes dirs left without write or search permission, and leaves a symlink's target alone", async () => {
  const base = mkdtempSync(join(tmpdir(), "kb-remove-own-"));
  const outside = join(base, "outside");
  mkdirSync(outside);
  chmodSync(outside, 0o500);
  const tree = join(base, "tree");
  mkdirSync(join(tree, "secret"), { recursive: true });
  writeFileSync(join(tree, "secret", "token"), "s3cret", { mode: 0o400 });
  chmodSync(join(tree, "secret"), 0o500);
  mkdirSync(join(tree, "src"));
  writeFileSync(join(tree, "src", "a.txt"), "a");
  chmodSync(join(tree, "src"), 0o644);
  symlinkSync(outside, join(tree, "link"));
  await removeOwnTree(tree);
  expect(existsSync(tree)).toBe(false);
  expect(statSync(outside).mode & 0o777).toBe(0o500);
  chmodSync(outside, 0o700);
  await removeOwnTree(base);
  expect(existsSync(base)).toBe(false);
});
