import { describe, expect, test } from "bun:test";
import { isKbError } from "../errors.ts";
import { makeTree } from "../../test/kit/file-tree.ts";
import { compileIgnore } from "./dockerignore.ts";
import { type ResolveOptions, resolveSources } from "./sources.ts";
import { walkSource } from "./walk-source.ts";

async function copyList(dir: string, srcs: string[], opts: ResolveOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (const s of await resolveSources(dir, srcs, opts)) for await (const e of walkSource(s)) out.push(`${e.type} ${e.destRel}`);
  return out;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(() => { throw new Error("expected a failure"); }, (e: Error) => e);
}

const TREE = ["a.txt=a", "b.txt=b", "c.md=c", "sub/x=1", "sub/dir1/y=2", "sub/.hid=3", "other/", "[lit]=4"];

describe("resolveSources()", () => {
  test("`resolveSources()` expands wildcards per segment and copies a matched dir's contents", async () => {
    const t = makeTree(TREE);
    try {
      expect(await copyList(t.dir, ["*.txt"])).toEqual(["file a.txt", "file b.txt"]);
      expect(await copyList(t.dir, ["sub/*"])).toEqual(["file .hid", "dir ", "file y", "file x"]);
      expect(await copyList(t.dir, ["sub"])).toEqual(["dir ", "file .hid", "dir dir1", "file dir1/y", "file x"]);
      expect(await copyList(t.dir, ["[[]lit]"])).toEqual(["file [lit]"]);
      expect(await copyList(t.dir, ["s?b/d*/y"])).toEqual(["file y"]);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` treats / as the context root and cleans a trailing slash", async () => {
    const t = makeTree(TREE);
    try {
      expect(await copyList(t.dir, ["/a.txt", "./sub/dir1/", "/../b.txt"])).toEqual(["file a.txt", "dir ", "file y", "file b.txt"]);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` fails on a missing literal path, not on an empty wildcard", async () => {
    const t = makeTree(TREE);
    try {
      const e = await failure(resolveSources(t.dir, ["nope"]));
      expect(isKbError(e, "CONTEXT")).toBe(true);
      expect(e.message).toContain('"/nope" not found');
      expect(await resolveSources(t.dir, ["*.none"])).toEqual([]);
      expect(isKbError(await failure(resolveSources(t.dir, ["*.none"], { allowEmptyWildcard: false })), "CONTEXT")).toBe(true);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` rejects .. and symlinks that leave the context", async () => {
    const t = makeTree([...TREE, "up -> ../..", "abs -> /etc/passwd", "in -> sub/x", "loop -> loop", "d/inner -> ../../x"]);
    try {
      for (const bad of ["../x", "sub/../../x", "up", "abs", "up/etc/passwd", "d/inner", "loop"]) {
        expect(isKbError(await failure(resolveSources(t.dir, [bad])), "CONTEXT")).toBe(true);
      }
      expect(await copyList(t.dir, ["in"])).toEqual(["file in"]);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` in a stage's filesystem (chroot) resolves absolute and climbing links inside the root", async () => {
    const t = makeTree([...TREE, "abs -> /sub/x", "up -> ../../sub", "d/inner -> ../../../a.txt", "loop -> loop"]);
    try {
      expect(await copyList(t.dir, ["abs"], { chroot: true })).toEqual(["file abs"]);
      expect((await resolveSources(t.dir, ["up/x"], { chroot: true }))[0]!.realPath).toBe("sub/x");
      expect((await resolveSources(t.dir, ["d/inner"], { chroot: true }))[0]!.realPath).toBe("a.txt");
      expect(isKbError(await failure(resolveSources(t.dir, ["loop"], { chroot: true })), "CONTEXT")).toBe(true);
      expect(isKbError(await failure(resolveSources(t.dir, ["abs"])), "CONTEXT")).toBe(true);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` hides .dockerignore'd paths but keeps re-included ones", async () => {
    const t = makeTree(TREE);
    try {
      const matcher = compileIgnore(["*.txt", "sub", "!sub/dir1"]);
      expect(await copyList(t.dir, ["*"], { matcher })).toEqual(["file [lit]", "file c.md", "dir ", "dir ", "dir dir1", "file dir1/y"]);
      expect(isKbError(await failure(resolveSources(t.dir, ["a.txt"], { matcher })), "CONTEXT")).toBe(true);
      expect(await copyList(t.dir, ["sub/dir1"], { matcher })).toEqual(["dir ", "file y"]);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` applies --exclude relative to each source", async () => {
    const t = makeTree(TREE);
    try {
      expect(await copyList(t.dir, ["sub"], { excludes: ["dir1", ".*"] })).toEqual(["dir ", "file x"]);
      expect(await copyList(t.dir, ["*.txt", "c.md"], { excludes: ["b.*"] })).toEqual(["file a.txt", "file c.md"]);
    } finally {
      t.done();
    }
  });
  test("`resolveSources()` with parents keeps dirs after the /./ pivot and lets ** span dirs", async () => {
    const t = makeTree(["x/a.txt", "y/a.txt", "src/p/q/r.txt", "src/p/s.md"]);
    try {
      expect(await copyList(t.dir, ["x/a.txt", "y/a.txt"], { parents: true })).toEqual(["file x/a.txt", "file y/a.txt"]);
      expect(await copyList(t.dir, ["./src/./p/**/*.txt"], { parents: true })).toEqual(["file p/q/r.txt"]);
    } finally {
      t.done();
    }
  });
});
