import { expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import * as path from "node:path";
import { makeTree } from "../../test/kit/file-tree.ts";
import { compileIgnore } from "./dockerignore.ts";
import { walkContext } from "./walk.ts";

async function list(dir: string, patterns?: string[], start?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkContext(dir, patterns ? compileIgnore(patterns) : null, { start })) out.push(`${e.type} ${e.path}`);
  return out;
}

test("`walkContext()` sorts by bytes, reports symlinks without following them", async () => {
  const t = makeTree(["b=1", "a/", "a/x=2", "B=3", "link -> a", "é=4"]);
  try {
    expect(await list(t.dir)).toEqual(["file B", "dir a", "file a/x", "file b", "symlink link", "file é"]);
    const entries: Record<string, string | undefined> = {};
    for await (const e of walkContext(t.dir)) entries[e.path] = e.linkTarget;
    expect(entries.link).toBe("a");
  } finally {
    t.done();
  }
});

test("`walkContext()` prunes an excluded dir and does not even read it", async () => {
  const t = makeTree(["node_modules/deep/x", "src/a.ts", "keep"]);
  chmodSync(path.join(t.dir, "node_modules/deep"), 0); // unreadable: a non-pruning walk would fail as non-root
  try {
    expect(await list(t.dir, ["node_modules"])).toEqual(["file keep", "dir src", "file src/a.ts"]);
  } finally {
    chmodSync(path.join(t.dir, "node_modules/deep"), 0o755);
    t.done();
  }
});

test("`walkContext()` re-includes through an exception and emits the excluded parents first", async () => {
  const t = makeTree(["docs/a.md", "docs/sub/README.md", "docs/sub/z.md", "x"]);
  try {
    expect(await list(t.dir, ["docs", "!docs/sub/README.md"])).toEqual([
      "dir docs", "dir docs/sub", "file docs/sub/README.md", "file x",
    ]);
    expect(await list(t.dir, ["*", "!**/z.md"])).toEqual(["dir docs", "dir docs/sub", "file docs/sub/z.md"]);
  } finally {
    t.done();
  }
});

test("`walkContext()` with start walks one subtree and keeps context-relative paths", async () => {
  const t = makeTree(["a/b/c", "a/b/d.log", "e"]);
  try {
    expect(await list(t.dir, ["*.log", "a/b/*.log"], "a/b")).toEqual(["dir a/b", "file a/b/c"]);
  } finally {
    t.done();
  }
});
