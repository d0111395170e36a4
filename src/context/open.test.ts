import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { isKbError } from "../errors.ts";
import { makeTree } from "../../test/kit/file-tree.ts";
import { openContext } from "./open.ts";

test("`openContext()` opens a directory and prefers <Dockerfile>.dockerignore", async () => {
  const t = makeTree(["Dockerfile=FROM scratch", ".dockerignore=*.log", "build/app.Dockerfile=FROM x", "build/app.Dockerfile.dockerignore=*.tmp"]);
  try {
    const a = await openContext(`dir://${t.dir}`);
    expect(a.dockerfilePath).toBe(path.join(a.root, "Dockerfile"));
    expect(a.dockerignore.matches("x.log")).toBe(true);
    const b = await openContext(t.dir, { dockerfile: "build/app.Dockerfile", cwd: "/" });
    expect(b.dockerignore.matches("x.log")).toBe(false);
    expect(b.dockerignore.matches("x.tmp")).toBe(true);
  } finally {
    t.done();
  }
});

test("`openContext()` reports a missing context or Dockerfile as CONTEXT with a hint", async () => {
  const t = makeTree(["other=1"]);
  try {
    for (const spec of [path.join(t.dir, "nope"), t.dir, "git://example/x"]) {
      const e = await openContext(spec).then(() => null, (x: unknown) => x);
      expect(isKbError(e, "CONTEXT")).toBe(true);
      expect((e as { hint?: string }).hint).toBeTruthy();
    }
  } finally {
    t.done();
  }
});

test("`openContext()` extracts a tar.gz context into a temp dir and removes it on cleanup", async () => {
  const t = makeTree(["src/Dockerfile=FROM scratch", "src/a=1"]);
  try {
    const tgz = path.join(t.dir, "ctx.tar.gz");
    execFileSync("tar", ["-czf", tgz, "-C", path.join(t.dir, "src"), "."]);
    const ctx = await openContext(`tar://${tgz}`);
    expect(existsSync(path.join(ctx.root, "a"))).toBe(true);
    await ctx.cleanup();
    expect(existsSync(ctx.root)).toBe(false);
    writeFileSync(path.join(t.dir, "bad.tar"), "not a tar at all".repeat(64));
    const e = await openContext(path.join(t.dir, "bad.tar")).then(() => null, (x: unknown) => x);
    expect(isKbError(e, "CONTEXT")).toBe(true);
  } finally {
    t.done();
  }
});

test("`openContext()` refuses a Dockerfile or .dockerignore that links outside the context, naming only the file", async () => {
  const outside = makeTree(["secret=root:$6$hash:19000:0:99999:7:::"]);
  const secret = path.join(outside.dir, "secret");
  const cases = [[`Dockerfile -> ${secret}`], ["Dockerfile=FROM scratch", `.dockerignore -> ${secret}`], ["Dockerfile -> ../../..", "x=1"]];
  try {
    for (const spec of cases) {
      const t = makeTree(spec);
      try {
        const e = (await openContext(t.dir).then(() => null, (x: unknown) => x)) as Error & { hint?: string };
        expect(isKbError(e, "CONTEXT")).toBe(true);
        expect(e.message).toMatch(/^Cannot open the build context: the (Dockerfile|\.dockerignore) "(Dockerfile|\.dockerignore)" is a symbolic link that leads outside the context$/);
        expect(`${e.message} ${e.hint}`).not.toContain("root:");
        expect(`${e.message} ${e.hint}`).not.toContain(outside.dir);
      } finally {
        t.done();
      }
    }
    const inside = makeTree(["real.Dockerfile=FROM scratch", "Dockerfile -> real.Dockerfile"]);
    try {
      expect((await openContext(inside.dir)).dockerfilePath).toBe(path.join(inside.dir, "Dockerfile"));
    } finally {
      inside.done();
    }
  } finally {
    outside.done();
  }
});

test("`openContext(\"-\")` takes a Dockerfile on standard input as the whole build, with an empty context", async () => {
  const text = "FROM scratch\nLABEL from=stdin\n";
  const stdin = () => new Blob([text]).stream();
  const ctx = await openContext("-", { stdin: stdin() });
  try {
    expect(readFileSync(ctx.dockerfilePath, "utf8")).toBe(text);
    expect(readdirSync(ctx.root)).toEqual([]);
  } finally {
    await ctx.cleanup();
  }
  expect(existsSync(ctx.root)).toBe(false);
  const e = await openContext("-", { stdin: stdin(), dockerfile: "Dockerfile" }).then(() => null, (x: unknown) => x);
  expect(isKbError(e, "CONTEXT")).toBe(true);
  expect(String((e as Error).message)).toContain("--file");
});
