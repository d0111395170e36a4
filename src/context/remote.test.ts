import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isKbError } from "../errors.ts";
import { encodeTarHeader } from "../layer/index.ts";
import { fetchRemoteContext, parseRemoteContext, redactUrl, resolveInside } from "./remote.ts";

const dirs: string[] = [];
const temp = (p: string) => {
  const d = mkdtempSync(path.join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("`parseRemoteContext()`", () => {
  test("reads Docker's git forms with #ref:subdir and Kaniko's #ref#commit", () => {
    expect(parseRemoteContext("https://example.com/app.git#v1:docker/")).toEqual({ kind: "git", url: "https://example.com/app.git", ref: "v1", subdir: "docker" });
    expect(parseRemoteContext("git@github.com:acme/app.git")).toEqual({ kind: "git", url: "git@github.com:acme/app.git" });
    expect(parseRemoteContext("git://host/app#refs/heads/main#0123abcd")).toEqual({ kind: "git", url: "git://host/app", ref: "refs/heads/main", commit: "0123abcd" });
    expect(parseRemoteContext("github.com/acme/app#:sub")).toEqual({ kind: "git", url: "https://github.com/acme/app", subdir: "sub" });
    expect(parseRemoteContext("file:///srv/app.git#main")).toEqual({ kind: "git", url: "file:///srv/app.git", ref: "main" });
    expect(parseRemoteContext("git+ssh://host/app.git")?.kind).toBe("git");
  });

  test("reads other http(s) URLs as tarballs and local paths as not remote", () => {
    expect(parseRemoteContext("https://example.com/ctx.tar.gz")).toEqual({ kind: "tarball", url: "https://example.com/ctx.tar.gz" });
    for (const local of [".", "/srv/ctx", "tar:///x.tar", "dir://x", "-", "some dir/with # hash"]) expect(parseRemoteContext(local)).toBeUndefined();
  });

  test("refuses option-like refs, odd characters, bad commits and # on tarballs", () => {
    for (const bad of ["https://h/a.git#--upload-pack=x", "https://h/a.git#a b", "https://h/a.git#main#nothex", "https://h/a.git#a#b#c", "https://h/x.tgz#main", "git://h/a#a..b"]) {
      let err: unknown;
      try {
        parseRemoteContext(bad);
      } catch (e) {
        err = e;
      }
      expect(isKbError(err, "CONTEXT")).toBe(true);
    }
  });

  test("never throws anything but a CONTEXT KbError on random input (fixed seed)", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) / 65536;
    const parts = ["https://", "git://", "git@", "h", ".git", "#", ":", "/", "..", "-", "a", " ", "\u0000", "file://", "github.com/", "0f"];
    for (let i = 0; i < 3000; i++) {
      let s = "";
      for (let j = Math.floor(rnd() * 10); j > 0; j--) s += parts[Math.floor(rnd() * parts.length)];
      try {
        parseRemoteContext(s);
      } catch (e) {
        expect(isKbError(e, "CONTEXT")).toBe(true);
      }
    }
  });

  test("`redactUrl()` hides user:password anywhere in a text", () => {
    expect(redactUrl("fatal: https://bob:s3cret@h/x.git not found")).toBe("fatal: https://***@h/x.git not found");
  });
});

test("`resolveInside()` refuses paths and symlinks that leave the root", async () => {
  const root = temp("kb-inside-");
  mkdirSync(path.join(root, "sub"));
  symlinkSync("/etc", path.join(root, "out"));
  writeFileSync(path.join(root, "file"), "x");
  expect(await resolveInside(root, "sub/", "x")).toBe(path.join(realpathSync(root), "sub"));
  for (const bad of ["../", "out", "nope", "file"]) expect(isKbError(await resolveInside(root, bad, "x").catch((e) => e), "CONTEXT")).toBe(true);
});

describe("git contexts", () => {
  let bare = "";
  let head = "";
  beforeAll(() => {
    const work = temp("kb-git-work-");
    const g = (...a: string[]) => execFileSync("git", ["-c", "user.name=kb", "-c", "user.email=kb@test", ...a], { cwd: work, encoding: "utf8" }).trim();
    g("init", "-q", "-b", "main");
    mkdirSync(path.join(work, "app"));
    writeFileSync(path.join(work, "app/Dockerfile"), "FROM scratch\n");
    writeFileSync(path.join(work, "README"), "v1\n");
    g("add", ".");
    g("commit", "-q", "-m", "one");
    g("tag", "v1");
    writeFileSync(path.join(work, "README"), "v2\n");
    g("commit", "-q", "-am", "two");
    head = g("rev-parse", "HEAD");
    bare = path.join(temp("kb-git-bare-"), "repo.git");
    execFileSync("git", ["clone", "-q", "--bare", work, bare]);
  });

  test("`fetchRemoteContext()` checks out a ref and subdir over file:// without .git", async () => {
    const r = await fetchRemoteContext(parseRemoteContext(`file://${bare}#v1:app`)!);
    dirs.push(r.dir);
    expect(r.root).toBe(path.join(r.dir, "app"));
    expect(readFileSync(path.join(r.root, "Dockerfile"), "utf8")).toBe("FROM scratch\n");
    expect(readFileSync(path.join(r.dir, "README"), "utf8")).toBe("v1\n");
    expect(existsSync(path.join(r.dir, ".git"))).toBe(false);
    const h = await fetchRemoteContext(parseRemoteContext(`file://${bare}`)!, { keepGitDir: true });
    dirs.push(h.dir);
    expect(readFileSync(path.join(h.dir, "README"), "utf8")).toBe("v2\n");
    expect(execFileSync("git", ["rev-parse", "HEAD"], { cwd: h.dir, encoding: "utf8" }).trim()).toBe(head);
    expect(execFileSync("git", ["rev-list", "--count", "HEAD"], { cwd: h.dir, encoding: "utf8" }).trim()).toBe("1"); // shallow
  });

  test("`fetchRemoteContext()` checks out Kaniko's #ref#commit", async () => {
    const r = await fetchRemoteContext(parseRemoteContext(`file://${bare}#main#${head.slice(0, 12)}`)!);
    dirs.push(r.dir);
    expect(readFileSync(path.join(r.dir, "README"), "utf8")).toBe("v2\n");
  });

  test("`fetchRemoteContext()` reports a ref that does not exist, and removes its temp dir", async () => {
    const before = new Set(readdirTmp());
    const e = await fetchRemoteContext(parseRemoteContext(`file://${bare}#no-such-branch`)!).catch((x) => x);
    expect(isKbError(e, "CONTEXT")).toBe(true);
    expect(e.message).toContain('the ref "no-such-branch" does not exist');
    expect(e.hint).toContain("git ls-remote");
    expect(readdirTmp().filter((d) => !before.has(d))).toEqual([]);
    const sub = await fetchRemoteContext(parseRemoteContext(`file://${bare}#main:nope`)!).catch((x) => x);
    expect(sub.message).toContain('"nope" does not exist');
  });

  test("`fetchRemoteContext()` reads a repository served by git daemon over git://", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const root = path.dirname(bare);
    writeFileSync(path.join(bare, "git-daemon-export-ok"), "");
    const { spawn } = await import("node:child_process");
    const daemon = spawn("git", ["daemon", "--reuseaddr", "--listen=127.0.0.1", `--port=${port}`, `--base-path=${root}`, root], { stdio: "ignore" });
    try {
      let r: Awaited<ReturnType<typeof fetchRemoteContext>> | undefined;
      for (let i = 0; i < 50 && !r; i++) {
        r = await fetchRemoteContext(parseRemoteContext(`git://127.0.0.1:${port}/repo.git#v1`)!).catch(async (e) => {
          if (i === 49) throw e;
          await new Promise((ok) => setTimeout(ok, 100));
          return undefined;
        });
      }
      dirs.push(r!.dir);
      expect(readFileSync(path.join(r!.dir, "README"), "utf8")).toBe("v1\n");
    } finally {
      daemon.kill();
    }
  });
});

function readdirTmp(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith("kb-remote-"));
}

/** A tar with the given files (names used verbatim, so "../x" can be written). */
function tarOf(files: Record<string, string>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, body] of Object.entries(files)) {
    const data = new TextEncoder().encode(body);
    blocks.push(encodeTarHeader({ path: name, type: "file", mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0 }));
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    blocks.push(padded);
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

describe("tarball contexts over HTTP", () => {
  let server: Server;
  let base = "";
  const files: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    files["/ctx.tar.gz"] = gzipSync(tarOf({ "Dockerfile": "FROM scratch\n", "app/a.txt": "a\n" }));
    files["/evil.tar"] = tarOf({ "Dockerfile": "FROM scratch\n", "../../escaped.txt": "gotcha\n" });
    files["/junk.tar"] = new TextEncoder().encode("this is not a tar archive at all ".repeat(40));
    server = createServer((req, res) => {
      const body = files[req.url ?? ""];
      if (!body) return void res.writeHead(404, "Not Found").end("no");
      res.writeHead(200, { "content-type": "application/octet-stream" });
      // two writes, so the body arrives as a stream
      res.write(body.subarray(0, 100));
      res.end(body.subarray(100));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server?.close());

  test("`fetchRemoteContext()` streams a .tar.gz into a temp dir", async () => {
    const r = await fetchRemoteContext(parseRemoteContext(`${base}/ctx.tar.gz`)!);
    dirs.push(r.dir);
    expect(readFileSync(path.join(r.root, "app/a.txt"), "utf8")).toBe("a\n");
  });

  test("`fetchRemoteContext()` refuses a tarball with ../ entries and writes nothing outside", async () => {
    const before = new Set(readdirTmp());
    const e = await fetchRemoteContext(parseRemoteContext(`${base}/evil.tar`)!).catch((x) => x);
    expect(isKbError(e, "CONTEXT")).toBe(true);
    expect(e.message).toContain("not a safe, readable tar archive");
    expect(existsSync(path.join(tmpdir(), "escaped.txt"))).toBe(false);
    expect(readdirTmp().filter((d) => !before.has(d))).toEqual([]);
  });

  test("`fetchRemoteContext()` reports a 404, junk bytes and a closed port as CONTEXT errors", async () => {
    const e = await fetchRemoteContext(parseRemoteContext(`${base}/missing.tar.gz`)!).catch((x) => x);
    expect(e.message).toBe(`Cannot open the build context "${base}/missing.tar.gz": the server answered 404 Not Found`);
    expect(isKbError(await fetchRemoteContext(parseRemoteContext(`${base}/junk.tar`)!).catch((x) => x), "CONTEXT")).toBe(true);
    expect(isKbError(await fetchRemoteContext(parseRemoteContext("http://127.0.0.1:1/x.tar")!).catch((x) => x), "CONTEXT")).toBe(true);
  });
});
