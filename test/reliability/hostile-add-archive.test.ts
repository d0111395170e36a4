// ADD of a hostile local archive (issue 13, item 5), matched to BuildKit (containerd archive.Apply): a hard
// link out of the destination fails the step naming the archive and the entry; a symlink to an absolute dir
// followed by a file under it lands inside the destination where the symlink points (scoped), with implied
// directories; `..` entries are cleaned into the destination. The resulting image unpacks with umoci to the
// same tree kb's own RUN sees, and nothing is written on the host outside the rootfs.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { scopedPath } from "../../src/engine/instructions/add-archive.ts";
import { rawTar, type RawEntry } from "../kit/hostile-layers.ts";
import { cleanup, kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";

const reg = useRegistryWithBusybox();
let cache: string;
const dirs: string[] = [];
beforeAll(async () => {
  cache = tempDir("kb-hostile-add-cache-");
  dirs.push(cache);
});
afterAll(async () => {
  cleanup(...dirs);
});

function contextWith(entries: RawEntry[], dockerfile: string): string {
  const ctx = makeContext({ Dockerfile: dockerfile });
  writeFileSync(path.join(ctx, "evil.tar"), rawTar(entries));
  dirs.push(ctx);
  return ctx;
}

async function verifyClean(): Promise<void> {
  const v = await kb(["cache", "verify", "--cache-dir", cache]);
  expect({ code: v.code, out: v.out }).toMatchObject({ code: 0 });
}

describe("scopedPath (containerd's RootPath for archive entries)", () => {
  test("cleans .., follows the archive's symlinks inside the destination, leaves the last component", () => {
    const links = new Map([["sl", "/abs/dir"], ["rel", "../../up"], ["loop", "loop"]]);
    expect(scopedPath("../../../../etc/shadow", links)).toBe("etc/shadow");
    expect(scopedPath("sl/file", links)).toBe("abs/dir/file");
    expect(scopedPath("rel/x", links)).toBe("up/x");
    expect(scopedPath("sl", links)).toBe("sl");
    expect(() => scopedPath("loop/x", links)).toThrow("too many levels of symbolic links");
  });
});

describe("ADD of a hostile local archive", () => {
  test("a hard link to ../../../../etc/shadow fails the step, naming the archive and the entry", async () => {
    const ctx = contextWith([{ name: "a.txt", content: "a" }, { name: "hl", type: "1", link: "../../../../etc/shadow" }], `FROM ${reg.base}\nADD evil.tar /t/\n`);
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--no-push", ctx]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[LAYER_INVALID]: Cannot ADD archive "evil.tar": entry "hl" is a hard link to "../../../../etc/shadow", which is not in the archive (inside the destination it would be "etc/shadow")');
    expect(r.err).toContain("--> Dockerfile:2");
    await verifyClean();
    record("hostile ADD", "tar with hl -> ../../../../etc/shadow", "refused (exit 1, LAYER_INVALID naming evil.tar and hl)", "BuildKit: link(2) of <dest>/etc/shadow fails too");
  }, 120_000);

  test("a hard link to a file earlier in the archive works, through a `..`-cleaned name too", async () => {
    const ctx = contextWith([{ name: "d/", type: "5" }, { name: "d/f.txt", content: "shared" }, { name: "hl", type: "1", link: "../d/f.txt" }], `FROM ${reg.base}\nADD evil.tar /t/\nRUN test "$(cat /t/hl)" = shared && test /t/hl -ef /t/d/f.txt\n`);
    const ref = `${reg.host}/hostile/add-hardlink:1`;
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", ref, ctx]);
    expect({ code: r.code, err: r.code ? r.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    const root = unpackFromRegistry(ref);
    dirs.push(path.dirname(path.dirname(root)));
    expect(readFileSync(path.join(root, "t/hl"), "utf8")).toBe("shared");
    expect(lstatSync(path.join(root, "t/hl")).ino).toBe(lstatSync(path.join(root, "t/d/f.txt")).ino);
  }, 120_000);

  test("a symlink to an absolute dir, then a file through it: lands inside the destination, umoci writes nothing on the host", async () => {
    const hostDir = `/kb-i13-abs-${randomBytes(4).toString("hex")}`;
    const ctx = contextWith(
      [{ name: "sl", type: "2", link: `${hostDir}/dir` }, { name: "sl/file", content: "through" }, { name: "../../up.txt", content: "up" }],
      `FROM ${reg.base}\nADD evil.tar /t/\nRUN cat /t${hostDir}/dir/file > /seen.txt && cat /t/up.txt >> /seen.txt\n`,
    );
    const ref = `${reg.host}/hostile/add-symlink:1`;
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", ref, ctx]);
    expect({ code: r.code, err: r.code ? r.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    const root = unpackFromRegistry(ref); // umoci unpack
    dirs.push(path.dirname(path.dirname(root)));
    expect(existsSync(hostDir)).toBe(false); // nothing written through the symlink on the host
    expect(readlinkSync(path.join(root, "t/sl"))).toBe(`${hostDir}/dir`);
    expect(readFileSync(path.join(root, `t${hostDir}/dir/file`), "utf8")).toBe("through");
    expect(readFileSync(path.join(root, "t/up.txt"), "utf8")).toBe("up");
    expect(readFileSync(path.join(root, "seen.txt"), "utf8")).toBe("throughup"); // kb's RUN saw the same tree
    await verifyClean();
    record("hostile ADD", "tar with sl -> /abs/dir then sl/file", "file at <dest>/abs/dir/file (scoped, as BuildKit)", "umoci unpacks the same tree; nothing written on the host");
  }, 120_000);
});
