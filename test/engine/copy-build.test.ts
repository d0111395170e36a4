// End to end: Dockerfiles without RUN built by kb, pushed to the real registry, checked with skopeo and umoci.

import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, layerOwners, listTree, makeContext, skopeoConfig, skopeoRaw, tempDir, unpackFromRegistry, unpackLayout } from "../kit/kb.ts";

const reg = useRegistryWithBusybox();
let cache: string;
beforeAll(async () => {
  cache = tempDir("kb-cache-");
});

const build = (ctx: string, ...args: string[]) => kb(["build", "--cache-dir", cache, "--progress", "plain", ...args, ctx]);

describe("kb build without RUN", () => {
  test("FROM busybox + COPY + metadata: pushed image has the files and the config", async () => {
    const ctx = makeContext({
      Dockerfile: `FROM ${reg.base}
ARG VERSION=1.2
ENV APP_HOME=/app VERSION=\${VERSION}
LABEL org.example.version=\${VERSION} maintainer="kb tests"
WORKDIR \${APP_HOME}
COPY --chown=1000:1000 src/ ./src/
COPY --chmod=0755 run.sh /usr/local/bin/run
COPY a.txt b.txt /data/
USER app
EXPOSE 8080 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD ["/usr/local/bin/run", "check"]
ENTRYPOINT ["/usr/local/bin/run"]
CMD ["serve"]
`,
      "src/main.txt": "main\n",
      "src/lib/util.txt": "util\n",
      "run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o644 },
      "a.txt": "A",
      "b.txt": "B",
      "ignored.log": "x",
      ".dockerignore": "*.log\n",
    });
    const ref = `${reg.host}/tests/copy:1`;
    const r = await build(ctx, "-t", ref);
    expect(r.err).toContain("COPY");
    expect(r.code).toBe(0);
    const cfg = skopeoConfig(ref);
    const c = cfg.config as Record<string, unknown>;
    expect(c.Env).toContain("APP_HOME=/app");
    expect(c.Env).toContain("VERSION=1.2");
    expect(c.WorkingDir).toBe("/app");
    expect(c.User).toBe("app");
    expect(c.Labels).toEqual({ "org.example.version": "1.2", maintainer: "kb tests" });
    expect(c.ExposedPorts).toEqual({ "8080/tcp": {}, "53/udp": {} });
    expect(c.Volumes).toEqual({ "/data": {} });
    expect(c.StopSignal).toBe("SIGTERM");
    expect(c.Entrypoint).toEqual(["/usr/local/bin/run"]);
    expect(c.Cmd).toEqual(["serve"]);
    expect((c.Healthcheck as Record<string, unknown>).Interval).toBe(30e9);
    const root = unpackFromRegistry(ref);
    const tree = listTree(root);
    // As root umoci keeps owners; as another user they come from the layer tars.
    const own = process.getuid?.() === 0 ? tree : layerOwners(ref);
    expect(tree["app/src/main.txt"]).toMatchObject({ type: "file", size: 5 });
    expect(own["app/src/main.txt"]).toMatchObject({ uid: 1000, gid: 1000 });
    expect(tree["app/src/lib/util.txt"]).toMatchObject({ type: "file" });
    expect(own["app/src/lib/util.txt"]).toMatchObject({ uid: 1000, gid: 1000 });
    expect(tree["usr/local/bin/run"]).toMatchObject({ type: "file", mode: "0755" });
    expect(own["usr/local/bin/run"]).toMatchObject({ uid: 0 });
    expect(readFileSync(join(root, "data/a.txt"), "utf8")).toBe("A");
    expect(tree["bin/busybox"]?.type).toBe("file");
    expect(tree["ignored.log"]).toBeUndefined();
    expect(Object.keys(tree).some((p) => p.endsWith("Dockerfile"))).toBe(false);
  });

  test("a second build with nothing changed hits the cache for every step", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY f /f\nWORKDIR /w\n`, f: "one" });
    const ref = `${reg.host}/tests/cached:1`;
    const a = await build(ctx, "-t", ref);
    expect(a.code).toBe(0);
    const b = await build(ctx, "-t", ref);
    expect(b.code).toBe(0);
    expect(b.err.match(/CACHED/g)?.length).toBe(2);
    writeFileSync(join(ctx, "f"), "two");
    const c = await build(ctx, "-t", ref);
    expect(c.err.match(/CACHED/g)?.length ?? 0).toBe(0);
  });

  test("--cache-ttl ignores cache entries older than the limit", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY f /f\n`, f: "ttl" });
    const store = tempDir("kb-cache-");
    expect((await kb(["build", "--cache-dir", store, "--no-push", ctx])).code).toBe(0);
    const fresh = await kb(["build", "--cache-dir", store, "--no-push", "--progress", "plain", "--cache-ttl", "1h", ctx]);
    expect(fresh.err).toContain("CACHED");
    await new Promise((r) => setTimeout(r, 20));
    const stale = await kb(["build", "--cache-dir", store, "--no-push", "--progress", "plain", "--cache-ttl", "10ms", ctx]);
    expect(stale.code).toBe(0);
    expect(stale.err).not.toContain("CACHED");
  });

  test("multi-stage with --target builds only what the target needs, COPY --from a stage", async () => {
    const ctx = makeContext({
      Dockerfile: `FROM ${reg.base} AS tools
COPY tool.txt /opt/tool.txt
FROM scratch AS unused
COPY missing-file /x
FROM scratch AS final
COPY --from=tools /opt/tool.txt /tool.txt
COPY --from=tools /bin/busybox /busybox
`,
      "tool.txt": "tool",
    });
    const out = tempDir("kb-oci-");
    const r = await build(ctx, "--target", "final", "--output", `type=oci,dest=${out}`, "--no-push");
    expect(r.err).not.toContain("missing-file");
    expect(r.code).toBe(0);
    const root = unpackLayout(out, "latest");
    expect(readFileSync(join(root, "tool.txt"), "utf8")).toBe("tool");
    expect(existsSync(join(root, "busybox"))).toBe(true);
  });

  test("writes a docker archive that skopeo reads, and a digest file", async () => {
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY hello /hello\n", hello: "hi" });
    const dir = tempDir();
    const r = await build(ctx, "--tar-path", join(dir, "img.tar"), "--digest-file", join(dir, "digest"), "-t", "example.com/hello:1", "--no-push");
    expect(r.code).toBe(0);
    const digest = readFileSync(join(dir, "digest"), "utf8");
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const { spawnSync } = await import("node:child_process");
    const s = spawnSync("skopeo", ["inspect", `docker-archive:${join(dir, "img.tar")}`], { encoding: "utf8" });
    expect(s.status).toBe(0);
  });

  test("--reproducible gives byte-identical images across cache dirs", async () => {
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY . /src/\nENV A=1\n", "x.txt": "x", "d/y.txt": "y" });
    const digests: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dir = tempDir();
      const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--reproducible", "--no-push", "--digest-file", join(dir, "d"), "--output", `type=oci,dest=${dir}/oci`, ctx], { SOURCE_DATE_EPOCH: "1700000000" });
      expect(r.code).toBe(0);
      digests.push(readFileSync(join(dir, "d"), "utf8"));
    }
    expect(digests[0]).toBe(digests[1]);
  });

  test("a rebuild after one file changed takes unchanged members from the last blob: same bytes as a fresh store", async () => {
    // ~6 MiB of text in 300 files: several members, one of which holds the changed file.
    const files: Record<string, string> = { Dockerfile: "FROM scratch\nCOPY src/ /src/\n" };
    for (let i = 0; i < 300; i++) files[`src/f${String(i).padStart(3, "0")}.txt`] = Array.from({ length: 2000 }, (_, j) => `line ${i}.${j} ${(i * 7919 + j * 104729) % 1000003}`).join("\n");
    const ctx = makeContext(files);
    const store = tempDir("kb-cache-");
    const digestOf = async (cacheDir: string) => {
      const dir = tempDir();
      const r = await kb(["build", "--cache-dir", cacheDir, "--reproducible", "--no-push", "--digest-file", join(dir, "d"), "--output", `type=oci,dest=${dir}/oci`, ctx], { SOURCE_DATE_EPOCH: "1700000000" });
      expect(r.code).toBe(0);
      return { digest: readFileSync(join(dir, "d"), "utf8"), layout: `${dir}/oci` };
    };
    await digestOf(store);
    const records = () => readdirSync(join(store, "cache"), { recursive: true }).filter((f) => String(f).endsWith(".json")).map((f) => readFileSync(join(store, "cache", String(f)), "utf8"));
    const members = records().map((t) => JSON.parse(t)).find((r) => r.kind === "layer-members");
    expect(members?.data.members.length).toBeGreaterThan(2);
    writeFileSync(join(ctx, "src/f150.txt"), "changed\n");
    const rebuilt = await digestOf(store);
    const fresh = await digestOf(tempDir("kb-cache-"));
    expect(rebuilt.digest).toBe(fresh.digest);
    expect(readFileSync(join(unpackLayout(rebuilt.layout, "latest"), "src/f150.txt"), "utf8")).toBe("changed\n");
  });

  test("--cache-repo shares steps between runners with separate cache dirs", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY big /big\nWORKDIR /srv/app\n`, big: "x".repeat(100_000) });
    const cacheRepo = `${reg.host}/cache/shared`;
    const a = await kb(["build", "--cache-dir", tempDir("kb-cache-a-"), "--cache-repo", cacheRepo, "-t", `${reg.host}/tests/shared:a`, "--progress", "plain", ctx]);
    expect(a.code).toBe(0);
    const b = await kb(["build", "--cache-dir", tempDir("kb-cache-b-"), "--cache-repo", cacheRepo, "-t", `${reg.host}/tests/shared:b`, "--progress", "plain", ctx]);
    expect(b.code).toBe(0);
    expect(b.err.match(/CACHED/g)?.length).toBe(2);
    expect(b.err).toContain("cache hit in");
    // Same layers (the config's timestamps are each build's own).
    expect(skopeoRaw(`${reg.host}/tests/shared:b`).layers).toEqual(skopeoRaw(`${reg.host}/tests/shared:a`).layers);
  });

  test("pushes base layers by cross-repository mount, not upload", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY f /f\n`, f: "mount" });
    const ref = `${reg.host}/other/app:1`;
    const r = await build(ctx, "-t", ref);
    expect(r.code).toBe(0);
    expect(reg.logs()).toMatch(/POST \/v2\/other\/app\/blobs\/uploads\/\?mount=/);
    expect((skopeoRaw(ref).layers as unknown[]).length).toBe(2);
  });
});

describe("kb build bad input", () => {
  const bad = async (dockerfile: string, files: Record<string, string> = {}, ...args: string[]) => {
    const ctx = makeContext({ Dockerfile: dockerfile, ...files });
    return build(ctx, "--no-push", ...args);
  };
  test("unknown stage in --from, with a suggestion and the line", async () => {
    const r = await bad("FROM scratch AS builder\nCOPY a /a\nFROM scratch\nCOPY --from=buidler /a /a\n", { a: "a" });
    expect(r.code).toBe(1);
    expect(r.err).toContain("buidler");
    expect(r.err).toContain("Dockerfile:4");
    expect(r.err).toContain("did you mean");
  });
  test("a stage used before it is defined (a cycle)", async () => {
    const r = await bad("FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=a /x /x\n");
    expect(r.code).toBe(1);
    expect(r.err).toContain("Dockerfile:2");
  });
  test("COPY escaping the context and a missing source", async () => {
    const r1 = await bad("FROM scratch\nCOPY ../etc/passwd /p\n");
    expect(r1.code).toBe(1);
    const r2 = await bad("FROM scratch\nCOPY nothere /n\n");
    expect(r2.code).toBe(1);
    expect(r2.err).toContain("nothere");
    expect(r2.err).toContain("Dockerfile:2");
  });
  test("an ARG used before its definition is an error with the line; an unset variable is a warning", async () => {
    const r = await bad("FROM scratch\nENV V=$VERSION\nARG VERSION=1\n");
    expect(r.code).toBe(1);
    expect(r.err).toContain("Dockerfile:2");
    expect(r.err).toContain("declared later");
    const w = await bad("FROM scratch\nENV V=$NOWHERE\n");
    expect(w.code).toBe(0);
    expect(w.err).toContain("UndefinedVar");
  });
  test("--chown to a user the stage does not have builds as root, as Docker builds it, with a warning naming the user", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY --chown=nosuchuser a /a\n`, a: "a" });
    const ref = `${reg.host}/chown/unknown:1`;
    const r = await build(ctx, "-t", ref);
    expect(r.code).toBe(0);
    expect(r.err).toContain('Dockerfile:2: --chown "nosuchuser": no user "nosuchuser" in the stage\'s /etc/passwd: uid 0 and gid 0');
    expect(layerOwners(ref)["a"]).toEqual({ uid: 0, gid: 0 });
  });
  test("a syntax error names the line; unknown flags are usage errors", async () => {
    const r = await bad("FROM scratch\nCOPPY a /a\n");
    expect(r.code).toBe(1);
    expect(r.err).toContain("Dockerfile:2");
    expect(r.err).toContain("COPY");
    const u = await kb(["build", "--destinaton", "x"]);
    expect(u.code).toBe(2);
    expect(u.err).toContain("did you mean --destination");
  });
});

describe("kb build -", () => {
  test("reads a tar context from standard input (a real process)", () => {
    const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "from stdin" });
    const tar = spawnSync("tar", ["-c", "-C", ctx, "."]).stdout;
    const out = tempDir();
    const r = spawnSync(process.execPath, [join(import.meta.dir, "../../src/main.ts"), "build", "--no-push", "--cache-dir", tempDir(), "--output", `type=oci,dest=${out}`, "-"], { input: tar, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(readFileSync(join(unpackLayout(out, "latest"), "a.txt"), "utf8")).toBe("from stdin");
  });
});
