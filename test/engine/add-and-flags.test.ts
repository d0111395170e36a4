// End to end: ADD (local archives, URLs with --checksum, git), COPY --parents/--exclude/--link, heredocs, ONBUILD,
// and the predefined platform ARGs, on the real registry / OCI layouts, checked with umoci.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, listTree, makeContext, must, tempDir, unpackLayout } from "../kit/kb.ts";

const reg = useRegistryWithBusybox();
let server: Server;
let url = "";
const payload = "downloaded bytes\n";
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/file.txt") {
      res.writeHead(200, { "last-modified": "Wed, 01 Nov 2023 00:00:00 GMT" });
      res.end(payload);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server?.close();
});

async function buildTree(files: Record<string, string>, ...args: string[]) {
  const ctx = makeContext(files);
  const out = tempDir("kb-oci-");
  const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--no-push", "--progress", "plain", "--output", `type=oci,dest=${out}`, ...args, ctx]);
  if (r.code !== 0) return { r, root: "", tree: {} as ReturnType<typeof listTree> };
  const root = unpackLayout(out, "latest");
  return { r, root, tree: listTree(root) };
}

describe("ADD", () => {
  test("a local tar.gz is extracted at the destination; a plain file is copied", async () => {
    const src = tempDir();
    writeFileSync(join(src, "inner.txt"), "inner");
    const ctx = makeContext({ Dockerfile: "FROM scratch\nADD bundle.tar.gz /opt/\nADD plain.txt /plain.txt\n", "plain.txt": "p" });
    must("tar", ["-czf", join(ctx, "bundle.tar.gz"), "-C", src, "inner.txt"]);
    const out = tempDir();
    const r = await kb(["build", "--cache-dir", tempDir(), "--no-push", "--output", `type=oci,dest=${out}`, ctx]);
    expect(r.code).toBe(0);
    const root = unpackLayout(out, "latest");
    expect(readFileSync(join(root, "opt/inner.txt"), "utf8")).toBe("inner");
    expect(existsSync(join(root, "opt/bundle.tar.gz"))).toBe(false);
    expect(readFileSync(join(root, "plain.txt"), "utf8")).toBe("p");
  });

  test("an http URL with --checksum is verified, keeps Last-Modified, and a wrong checksum fails", async () => {
    const sum = `sha256:${createHash("sha256").update(payload).digest("hex")}`;
    const ok = await buildTree({ Dockerfile: `FROM scratch\nADD --checksum=${sum} ${url}/file.txt /dl/\n` });
    expect(ok.r.code).toBe(0);
    expect(readFileSync(join(ok.root, "dl/file.txt"), "utf8")).toBe(payload);
    expect(statSync(join(ok.root, "dl/file.txt")).mtimeMs / 1000).toBe(Date.parse("2023-11-01T00:00:00Z") / 1000);
    const bad = await buildTree({ Dockerfile: `FROM scratch\nADD --checksum=sha256:${"0".repeat(64)} ${url}/file.txt /dl/\n` });
    expect(bad.r.code).toBe(1);
    expect(bad.r.err).toContain("--checksum");
    expect(bad.r.err).toContain("Dockerfile:2");
    const missing = await buildTree({ Dockerfile: `FROM scratch\nADD ${url}/nope.txt /dl/\n` });
    expect(missing.r.code).toBe(1);
    expect(missing.r.err).toContain("404");
  });

  test("a git repository is cloned at a ref, without .git unless --keep-git-dir", async () => {
    const repo = tempDir("kb-git-");
    const git = (...a: string[]) => must("git", ["-C", repo, "-c", "user.email=t@e", "-c", "user.name=t", ...a]);
    must("git", ["init", "-q", "-b", "main", repo]);
    writeFileSync(join(repo, "README"), "v1\n");
    git("add", "."), git("commit", "-qm", "v1"), git("tag", "v1");
    writeFileSync(join(repo, "README"), "v2\n");
    git("commit", "-qam", "v2");
    const r = await buildTree({ Dockerfile: `FROM scratch\nADD file://${repo}/.git#v1 /src/\nADD --keep-git-dir=true file://${repo}/.git /full/\n` });
    // file:// is what a local repository looks like to git; kb treats a .git URL as a git source
    expect(r.r.code).toBe(0);
    expect(readFileSync(join(r.root, "src/README"), "utf8")).toBe("v1\n");
    expect(existsSync(join(r.root, "src/.git"))).toBe(false);
    expect(existsSync(join(r.root, "full/.git"))).toBe(true);
  }, 60_000); // git init, commits and a clone: seconds under load
});

describe("COPY flags and heredocs", () => {
  test("--parents keeps source directories; --exclude leaves files out; --link", async () => {
    const r = await buildTree({
      Dockerfile: "FROM scratch\nCOPY --parents a/x.txt b/y.txt /p/\nCOPY --exclude=*.log --link logs/ /l/\n",
      "a/x.txt": "x", "b/y.txt": "y", "logs/keep.txt": "k", "logs/drop.log": "d",
    });
    expect(r.r.code).toBe(0);
    expect(r.tree["p/a/x.txt"]?.type).toBe("file");
    expect(r.tree["p/b/y.txt"]?.type).toBe("file");
    expect(r.tree["l/keep.txt"]?.type).toBe("file");
    expect(r.tree["l/drop.log"]).toBeUndefined();
  });

  test("COPY <<EOF writes inline files; RUN <<EOF runs a script", async () => {
    const r = await buildTree({ Dockerfile: `FROM ${reg.base}\nCOPY <<EOF /etc/app.conf\nport=80\nEOF\nRUN <<EOS\nset -e\necho from-heredoc > /h.txt\nEOS\n` });
    expect(r.r.code).toBe(0);
    expect(readFileSync(join(r.root, "etc/app.conf"), "utf8")).toBe("port=80\n");
    expect(readFileSync(join(r.root, "h.txt"), "utf8")).toBe("from-heredoc\n");
  });

  test("RUN <<EOF whose body starts with #! runs it as a program at /dev/pipes/EOF (as BuildKit); RUN <<-EOF strips tabs", async () => {
    const df = [
      `FROM ${reg.base}`,
      "RUN <<EOF", "#!/bin/sh", 'echo "$0 $#" > /prog.txt', "EOF",
      "RUN <<-EOF", "\tcat > /chomp.txt <<X", "\tkept", "\tX", "EOF",
    ].join("\n");
    const ctx = makeContext({ Dockerfile: `${df}\n` });
    const out = tempDir("kb-oci-");
    const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--no-push", "--output", `type=oci,dest=${out}`, ctx]);
    expect(r.code).toBe(0);
    const root = unpackLayout(out, "latest");
    expect(readFileSync(join(root, "prog.txt"), "utf8")).toBe("/dev/pipes/EOF 0\n");
    expect(readFileSync(join(root, "chomp.txt"), "utf8")).toBe("kept\n");
    expect(listTree(root)["dev/pipes"]).toBeUndefined();
    const blob = (d: string) => JSON.parse(readFileSync(join(out, "blobs/sha256", d.slice(7)), "utf8"));
    const manifest = blob(JSON.parse(readFileSync(join(out, "index.json"), "utf8")).manifests[0].digest);
    const history: { created_by?: string }[] = blob(manifest.config.digest).history;
    expect(history.map((h) => h.created_by)).toContain("RUN /bin/sh -c /dev/pipes/EOF # buildkit");
  });

  test("ONBUILD triggers of a base run in the child build; platform ARGs are set", async () => {
    const parentCtx = makeContext({ Dockerfile: `FROM ${reg.base}\nONBUILD COPY trigger.txt /from-onbuild.txt\n`, "trigger.txt": "ignored" });
    const parent = `${reg.host}/onbuild/parent:1`;
    expect((await kb(["build", "--cache-dir", tempDir(), "-t", parent, parentCtx])).code).toBe(0);
    const r = await buildTree({ Dockerfile: `FROM ${parent}\nARG TARGETARCH\nARG TARGETPLATFORM\nRUN echo "$TARGETPLATFORM $TARGETARCH" > /plat\n`, "trigger.txt": "child" });
    expect(r.r.code).toBe(0);
    expect(readFileSync(join(r.root, "from-onbuild.txt"), "utf8")).toBe("child");
    expect(readFileSync(join(r.root, "plat"), "utf8")).toMatch(/^linux\/(amd64|arm64) (amd64|arm64)\n$/);
  });
});
