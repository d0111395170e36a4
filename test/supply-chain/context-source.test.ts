// contextDependency(): what provenance records about the build context (git commit, tarball digest, URL).

import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { contextDependency } from "../../src/attest/context-source.ts";
import { cleanup, makeContext, must, tempDir } from "../kit/kb.ts";

const dirs: string[] = [];
afterAll(() => cleanup(...dirs));

describe("contextDependency()", () => {
  test("a git work tree gives HEAD's commit and its origin without credentials, and says when it is dirty", async () => {
    const dir = makeContext({ Dockerfile: "FROM scratch\n" });
    dirs.push(dir);
    const git = (...a: string[]) => must("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...a]);
    git("init", "-q");
    git("add", "Dockerfile");
    git("commit", "-qm", "x");
    git("remote", "add", "origin", "https://user:s3cret@git.example.com/team/app.git");
    const head = git("rev-parse", "HEAD").trim();
    expect(await contextDependency(dir)).toEqual({ name: "context", uri: "git+https://git.example.com/team/app.git", digest: { gitCommit: head } });
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nLABEL a=b\n");
    expect((await contextDependency(dir))?.annotations).toEqual({ dirty: "true" });
  });

  test("a tar context gives its sha256; a remote URL itself with the commit it names; stdin nothing", async () => {
    const dir = tempDir("kb-ctxsrc-");
    dirs.push(dir);
    const tar = join(dir, "ctx.tar");
    writeFileSync(tar, "not really a tar, but bytes to hash");
    const sha = createHash("sha256").update(readFileSync(tar)).digest("hex");
    expect(await contextDependency(tar)).toEqual({ name: "context", uri: `file:${tar}`, digest: { sha256: sha } });
    expect(await contextDependency(`tar://${tar}`)).toMatchObject({ digest: { sha256: sha } });
    const commit = "a".repeat(40);
    expect(await contextDependency(`https://tok@git.example.com/app.git#main#${commit}`)).toEqual({ uri: `https://git.example.com/app.git#main#${commit}`, digest: { sha1: commit } });
    expect(await contextDependency("-")).toBeUndefined();
    expect(await contextDependency(dir)).toBeUndefined(); // a plain folder outside git: nothing identifies it
  });
});
