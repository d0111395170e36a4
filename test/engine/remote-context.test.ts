// End to end: kb build from remote contexts: a git repository (file://, git daemon, smart HTTP with Basic
// auth from GIT_USERNAME/GIT_PASSWORD), and a tarball on a local HTTP server; bad refs, 404s and ../ entries.

import { createTar } from "nanotar";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { cleanup, kb, tempDir, unpackFromRegistry } from "../kit/kb.ts";

const reg = useRegistryWithBusybox();
let bare = "";
let http: Server;
let httpBase = "";
let daemon: ChildProcess | undefined;
let daemonPort = 0;
const authSeen: string[] = [];
const dirs: string[] = [];
const files: Record<string, Uint8Array> = {};

/** A small tar in memory (nanotar: fine for fixtures; layers need kb's streaming codec, see decision 030). */
function tarOf(entries: Record<string, string>): Uint8Array {
  return createTar(Object.entries(entries).map(([name, data]) => ({ name, data, attrs: { mode: "644", uid: 0, gid: 0, mtime: 0 } })));
}

/** git's smart HTTP through `git http-backend` (CGI), behind Basic auth "bob:s3cret-pw". */
function gitHttp(req: IncomingMessage, res: ServerResponse, root: string): void {
  authSeen.push(req.headers.authorization ?? "");
  if (req.headers.authorization !== `Basic ${Buffer.from("bob:s3cret-pw").toString("base64")}`) {
    return void res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
  }
  const url = new URL(req.url!, "http://x");
  const cgi = spawn("git", ["http-backend"], {
    env: { ...process.env, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: "1", REQUEST_METHOD: req.method!, PATH_INFO: url.pathname.slice("/git".length),
      QUERY_STRING: url.search.slice(1), CONTENT_TYPE: req.headers["content-type"] ?? "", HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "", REMOTE_USER: "bob" },
  });
  req.pipe(cgi.stdin);
  const out: Buffer[] = [];
  cgi.stdout.on("data", (d) => out.push(d));
  cgi.on("close", () => {
    const all = Buffer.concat(out);
    const split = all.indexOf("\r\n\r\n");
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of all.subarray(0, split).toString().split("\r\n")) {
      const [k, ...v] = line.split(": ");
      if (k!.toLowerCase() === "status") status = Number.parseInt(v.join(": "));
      else headers[k!] = v.join(": ");
    }
    res.writeHead(status, headers).end(all.subarray(split + 4));
  });
}

beforeAll(async () => {
  const work = tempDir("kb-git-work-");
  dirs.push(work);
  const g = (...a: string[]) => execFileSync("git", ["-c", "user.name=kb", "-c", "user.email=kb@test", ...a], { cwd: work, encoding: "utf8" });
  g("init", "-q", "-b", "main");
  mkdirSync(join(work, "app"));
  writeFileSync(join(work, "app/Dockerfile"), `FROM ${reg.base}\nCOPY . /ctx/\nRUN ls -a /ctx > /listing\n`);
  writeFileSync(join(work, "app/hello.txt"), "hello from git\n");
  g("add", ".");
  g("commit", "-q", "-m", "one");
  g("tag", "v1");
  const root = tempDir("kb-git-root-");
  dirs.push(root);
  bare = join(root, "repo.git");
  execFileSync("git", ["clone", "-q", "--bare", work, bare]);
  writeFileSync(join(bare, "git-daemon-export-ok"), "");
  daemonPort = 20000 + Math.floor(Math.random() * 20000);
  daemon = spawn("git", ["daemon", "--reuseaddr", "--listen=127.0.0.1", `--port=${daemonPort}`, `--base-path=${root}`, root], { stdio: "ignore" });
  files["/ctx.tar.gz"] = gzipSync(tarOf({ "sub/Dockerfile": `FROM ${reg.base}\nCOPY greeting /greeting\n`, "sub/greeting": "hello from a tarball\n" }));
  files["/evil.tar.gz"] = gzipSync(tarOf({ "Dockerfile": `FROM ${reg.base}\n`, "../../../tmp/kb-evil-escape": "x" }));
  http = createServer((req, res) => {
    if (req.url?.startsWith("/git/")) return gitHttp(req, res, root);
    const body = files[req.url ?? ""];
    if (!body) return void res.writeHead(404, "Not Found").end();
    res.writeHead(200).end(body);
  });
  await new Promise<void>((ok) => http.listen(0, "127.0.0.1", ok));
  httpBase = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  await new Promise((ok) => setTimeout(ok, 300)); // git daemon starts listening
});
afterAll(() => {
  daemon?.kill();
  http?.close();
  cleanup(...dirs);
});

async function buildOk(args: string[], ref: string, env: Record<string, string> = {}): Promise<string> {
  const r = await kb(["build", "--progress", "plain", "-t", ref, ...args], env);
  if (r.code !== 0) console.log(r.err);
  expect(r.code).toBe(0);
  const root = unpackFromRegistry(ref);
  dirs.push(join(root, "../.."));
  return root;
}

describe("kb build with a remote context", () => {
  test("a git repository over file:// with #ref:subdir; .git is left out", async () => {
    const root = await buildOk([`file://${bare}#v1:app`], `${reg.host}/remote/git-file:1`);
    expect(readFileSync(join(root, "ctx/hello.txt"), "utf8")).toBe("hello from git\n");
    expect(readFileSync(join(root, "listing"), "utf8").split("\n")).not.toContain(".git");
  });

  test("a git repository served by git daemon, with --context-sub-path", async () => {
    const root = await buildOk([`git://127.0.0.1:${daemonPort}/repo.git#main`, "--context-sub-path", "app"], `${reg.host}/remote/git-daemon:1`);
    expect(readFileSync(join(root, "ctx/hello.txt"), "utf8")).toBe("hello from git\n");
  });

  test("a git repository over HTTP with Basic auth from GIT_USERNAME/GIT_PASSWORD, never printed", async () => {
    const r0 = await kb(["build", "--no-push", `${httpBase}/git/repo.git#main:app`], { GIT_USERNAME: "", GIT_PASSWORD: "", GIT_TOKEN: "" });
    expect(r0.code).not.toBe(0);
    expect(r0.err).toContain("git could not fetch it");
    const r = await kb(["build", "--progress", "plain", "--no-push", `${httpBase}/git/repo.git#main:app`], { GIT_USERNAME: "bob", GIT_PASSWORD: "s3cret-pw" });
    if (r.code !== 0) console.log(r.err);
    expect(r.code).toBe(0);
    expect(authSeen).toContain(`Basic ${Buffer.from("bob:s3cret-pw").toString("base64")}`);
    expect(r.out + r.err).not.toContain("s3cret-pw");
    const bad = await kb(["build", "--no-push", `${httpBase}/git/repo.git#main:app`], { GIT_USERNAME: "bob", GIT_PASSWORD: "wrong-s3cret" });
    expect(bad.code).not.toBe(0);
    expect(bad.out + bad.err).not.toContain("wrong-s3cret");
  });

  test("a tarball over HTTP, with --context-sub-path", async () => {
    const root = await buildOk([`${httpBase}/ctx.tar.gz`, "--context-sub-path", "sub"], `${reg.host}/remote/tarball:1`);
    expect(readFileSync(join(root, "greeting"), "utf8")).toBe("hello from a tarball\n");
  });

  test("a git ref that does not exist, a 404 and a tarball with ../ entries fail with clear errors", async () => {
    const noRef = await kb(["build", "--no-push", `file://${bare}#no-such-ref`]);
    expect(noRef.code).not.toBe(0);
    expect(noRef.err).toContain('the ref "no-such-ref" does not exist');
    const missing = await kb(["build", "--no-push", `${httpBase}/nope.tar.gz`]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("the server answered 404 Not Found");
    const evil = await kb(["build", "--no-push", `${httpBase}/evil.tar.gz`]);
    expect(evil.code).not.toBe(0);
    expect(evil.err).toContain("not a safe, readable tar archive");
    expect(() => readFileSync("/tmp/kb-evil-escape")).toThrow();
  });
});
