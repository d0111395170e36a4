// End to end: RUN in the sandbox as root, as nobody (one id) and as a user with a subuid range, pushed to the
// real registry and checked with umoci; failures, secrets, cache mounts, timeouts.

import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, listTree, makeContext, must, tempDir, unpackFromRegistry, unpackLayout } from "../kit/kb.ts";
import { ensureSubidUser, kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`run-build.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
let cache: string;
beforeAll(async () => {
  if (skip) return;
  cache = tempDir("kb-cache-");
});

const CHANGES = `
RUN echo new > /new.txt && echo changed >> /etc/motd && chmod 0600 /etc/passwd-copy 2>/dev/null; \\
    cp /etc/passwd /etc/passwd-copy && chmod 0640 /etc/passwd-copy && \\
    mkdir -p /opt/data && echo 1 > /opt/data/one && ln /opt/data/one /opt/data/hard && ln -s one /opt/data/soft && \\
    rm /bin/vi && rm -rf /usr/share && mkdir -p /tmp/recreated && echo a > /tmp/recreated/a
RUN rm -rf /tmp/recreated && mkdir /tmp/recreated && echo b > /tmp/recreated/b
`;

function checkTree(root: string) {
  const t = listTree(root);
  expect(readFileSync(join(root, "new.txt"), "utf8")).toBe("new\n");
  expect(t["etc/passwd-copy"]).toMatchObject({ type: "file", mode: "0640" });
  expect(t["opt/data/soft"]).toMatchObject({ type: "symlink", link: "one" });
  expect(statSync(join(root, "opt/data/hard")).ino).toBe(statSync(join(root, "opt/data/one")).ino);
  expect(t["bin/vi"]).toBeUndefined();
  expect(t["bin/ls"]).toBeDefined();
  expect(Object.keys(t).filter((p) => p.startsWith("tmp/recreated/"))).toEqual(["tmp/recreated/b"]);
  expect(t["etc/hosts"]?.size ?? 0).toBe(0);
  return t;
}

describe.skipIf(!!skip)("kb build with RUN", () => {
  test("as root: files created, changed, chmod-ed, deleted, dirs recreated (opaque), links", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\n${CHANGES}\nUSER app\nRUN id > /tmp/id.txt\n` });
    const ref = `${reg.host}/run/root:1`;
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", ref, ctx]);
    expect(r.code).toBe(0);
    const root = unpackFromRegistry(ref);
    checkTree(root);
    expect(readFileSync(join(root, "tmp/id.txt"), "utf8")).toContain("uid=1000(app)");
  });

  const asUser = kbAs;

  test("as nobody (single id): the same tree; chown to another id fails with a clear message", async () => {
    const home = userHome("nobody");
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\n${CHANGES}\n` });
    chmodSync(ctx, 0o755);
    const ref = `${reg.host}/run/nobody:1`;
    const r = asUser("nobody", "nogroup", home, ["build", "--progress", "plain", "-t", ref, ctx]);
    expect(r.err).toContain("rootless");
    if (r.code !== 0) console.log(r.err);
    expect(r.code).toBe(0);
    checkTree(unpackFromRegistry(ref));
    const bad = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN touch /f && chown 1000:1000 /f\n` });
    chmodSync(bad, 0o755);
    const b = asUser("nobody", "nogroup", home, ["build", "--progress", "plain", "--no-push", bad]);
    expect(b.code).toBe(1);
    expect(b.err).toContain("single id");
    expect(b.err).toContain("chown");
    expect(b.err).toContain("Dockerfile:2");
  }, 120_000); // two subprocess builds: seconds, more on a loaded machine (a timeout here also stops the registry)

  test("as a user with an /etc/subuid range: chown to uid 1000 works", async () => {
    ensureSubidUser();
    const home = userHome("kbtest");
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN mkdir /owned && touch /owned/f && chown -R 1000:1000 /owned && id -u > /uid\n` });
    chmodSync(ctx, 0o755);
    const ref = `${reg.host}/run/subuid:1`;
    const r = asUser("kbtest", "kbtest", home, ["build", "--progress", "plain", "-t", ref, ctx]);
    expect(r.code).toBe(0);
    const t = listTree(unpackFromRegistry(ref));
    expect(t["owned/f"]).toMatchObject({ uid: 1000, gid: 1000 });
    expect(t["owned"]).toMatchObject({ uid: 1000, gid: 1000 });
  }, 120_000);

  test("a failing RUN stops the build with its exit code, line and output; nothing is pushed", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN echo first\nRUN echo about to fail >&2 && exit 3\nRUN echo never\n` });
    const ref = `${reg.host}/run/fail:1`;
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", ref, ctx]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("exited with code 3");
    expect(r.err).toContain("Dockerfile:3");
    expect(r.err).toContain("about to fail");
    expect(r.err).not.toContain("never\n");
    expect(spawnSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`]).status).not.toBe(0);
  });

  test("secrets reach RUN but no layer, history, log or store file", async () => {
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    const dir = tempDir();
    writeFileSync(join(dir, "token"), secret);
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = "${"$"}EXPECT" && echo ok > /used\n` });
    const store = tempDir("kb-cache-");
    const out = join(dir, "oci");
    const r = await kb(["build", "--cache-dir", store, "--progress", "plain", "--secret", `id=tok,src=${join(dir, "token")}`, "--build-arg", "EXPECT=x", "--no-push", "--output", `type=oci,dest=${out}`, ctx]);
    // The check inside compares with EXPECT (an undeclared ARG is not visible, so the test must fail)...
    expect(r.code).toBe(1);
    const ctx2 = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok && wc -c < /run/secrets/tok > /len\n` });
    const r2 = await kb(["build", "--cache-dir", store, "--progress", "plain", "--secret", `id=tok,src=${join(dir, "token")}`, "--no-push", "--output", `type=oci,dest=${out}`, ctx2]);
    expect(r2.code).toBe(0);
    const root = unpackLayout(out, "latest");
    expect(readFileSync(join(root, "len"), "utf8").trim()).toBe(String(secret.length));
    expect(existsSync(join(root, "run/secrets/tok"))).toBe(false);
    const grep = spawnSync("grep", ["-rl", secret, store, out], { encoding: "utf8" });
    expect(grep.stdout).toBe("");
    expect(r.err + r2.err).not.toContain(secret);
  });

  test("a cache mount keeps its contents across builds and stays out of the image", async () => {
    const df = `FROM ${reg.base}\nARG N\nRUN --mount=type=cache,target=/var/cache/x sh -c 'echo $N >> /var/cache/x/log; cat /var/cache/x/log | wc -l > /count'\n`;
    const out = tempDir();
    for (const n of ["1", "2"]) {
      const r = await kb(["build", "--cache-dir", cache, "--build-arg", `N=${n}`, "--no-push", "--output", `type=oci,dest=${out}/oci`, makeContext({ Dockerfile: df })]);
      expect(r.code).toBe(0);
    }
    const root = unpackLayout(`${out}/oci`, "latest");
    expect(Number(readFileSync(join(root, "count"), "utf8"))).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(root, "var/cache/x/log"))).toBe(false);
  });

  test("cache mounts with sharing=locked and sharing=private, with uid/gid/mode for a new cache dir", async () => {
    const df = `FROM ${reg.base}
RUN --mount=type=cache,id=lk,target=/c,sharing=locked,uid=1000,gid=1000,mode=0750 stat -c '%u %g %a' /c > /locked
RUN --mount=type=cache,id=pv,target=/p,sharing=private sh -c 'echo x > /p/f && ls /p > /private'
`;
    const out = tempDir();
    const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--no-push", "--output", `type=oci,dest=${out}/oci`, makeContext({ Dockerfile: df })]);
    expect(r.code).toBe(0);
    const root = unpackLayout(`${out}/oci`, "latest");
    expect(readFileSync(join(root, "locked"), "utf8")).toBe("1000 1000 750\n");
    expect(readFileSync(join(root, "private"), "utf8")).toBe("f\n");
  });

  test("a daemon left behind is killed, and --timeout kills a RUN that never ends", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN (sleep 3017 &) ; echo started\n` });
    const r = await kb(["build", "--cache-dir", cache, "--no-push", ctx]);
    expect(r.code).toBe(0);
    const sleepers = spawnSync("pgrep", ["-f", "^sleep 3017$"], { encoding: "utf8" }).stdout.trim();
    expect(sleepers).toBe("");
    const t = await kb(["build", "--cache-dir", cache, "--no-push", "--timeout", "2s", makeContext({ Dockerfile: `FROM ${reg.base}\nRUN sleep 600\n` })]);
    expect(t.code).toBe(1);
    expect(t.err).toContain("--timeout");
    expect(spawnSync("pgrep", ["-f", "sleep 600"], { encoding: "utf8" }).stdout.trim()).toBe("");
  });

  test("bind mounts from the context and a stage, tmpfs, and --network=none", async () => {
    const df = `FROM ${reg.base} AS tools
RUN echo tool > /tool.txt
FROM ${reg.base}
RUN --mount=type=bind,source=conf,target=/mnt/conf cat /mnt/conf/a.conf > /from-context
RUN --mount=type=bind,from=tools,source=/tool.txt,target=/mnt/tool.txt cp /mnt/tool.txt /from-stage
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo t > /scratch/t && cat /scratch/t > /from-tmpfs'
RUN --mount=type=bind,source=conf,target=/mnt/rw,rw sh -c 'echo changed > /mnt/rw/a.conf'
RUN --network=none sh -c 'ip link 2>/dev/null | grep -c "^[0-9]" > /links || cat /proc/net/dev | tail -n +3 | wc -l > /links'
`;
    const ctx = makeContext({ Dockerfile: df, "conf/a.conf": "conf\n" });
    const out = tempDir();
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--output", `type=oci,dest=${out}/oci`, ctx]);
    expect(r.code).toBe(0);
    const root = unpackLayout(`${out}/oci`, "latest");
    expect(readFileSync(join(root, "from-context"), "utf8")).toBe("conf\n");
    expect(readFileSync(join(root, "from-stage"), "utf8")).toBe("tool\n");
    expect(readFileSync(join(root, "from-tmpfs"), "utf8")).toBe("t\n");
    expect(existsSync(join(root, "scratch/t"))).toBe(false);
    expect(existsSync(join(root, "mnt/conf/a.conf"))).toBe(false);
    expect(readFileSync(join(ctx, "conf/a.conf"), "utf8")).toBe("conf\n"); // a rw bind never writes the context
    expect(readFileSync(join(root, "links"), "utf8").trim()).toBe("1");
  });

  test("COPY and WORKDIR through a merged-/usr link (/sbin -> usr/sbin) write under its target and keep the link", async () => {
    // Debian and Ubuntu link /bin, /sbin and /lib into /usr: a layer entry "sbin/tool" would hide the whole of /usr/sbin.
    const df = `FROM ${reg.base}
RUN mkdir -p /usr/sbin && cp /bin/busybox /usr/sbin/keep && rm -rf /sbin && ln -s usr/sbin /sbin
COPY tool /sbin/
WORKDIR /sbin/work
RUN ls /usr/sbin/tool /usr/sbin/keep /usr/sbin/work > /listed
`;
    const ctx = makeContext({ Dockerfile: df, tool: "tool\n" });
    const out = tempDir();
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--output", `type=oci,dest=${out}/oci`, ctx]);
    expect(r.code).toBe(0);
    const t = listTree(unpackLayout(`${out}/oci`, "latest"));
    expect(t["sbin"]).toMatchObject({ type: "symlink", link: "usr/sbin" });
    expect(t["usr/sbin/tool"]).toMatchObject({ type: "file" });
    expect(t["usr/sbin/keep"]).toMatchObject({ type: "file" });
    expect(t["usr/sbin/work"]).toMatchObject({ type: "dir" });
  });

  test("COPY, WORKDIR and a mount below a file of the image, or a copied directory over its symlink, fail at their line as in Docker", async () => {
    // kb before: a layer entry f/x that turned the file /f into a directory.
    const cases: [string, string][] = [
      ["COPY a.txt /f/x", 'Cannot place "/f/x" in the image: "/f" is a file there, not a directory'],
      ["COPY a.txt /f/", 'Cannot copy into "/f/": "/f" is a file in the image, not a directory'],
      ["WORKDIR /l/w", 'Cannot place "/l/w" in the image: "/f" is a file there, not a directory'],
      ["RUN --mount=type=tmpfs,target=/f/t true", 'Cannot place "/f/t" in the image: "/f" is a file there'],
      // a directory of the source over a symlink of the image (BuildKit: "cannot copy to non-directory")
      ["COPY rootfs/ /", 'Cannot copy the directory "l" to "/l": that is a symlink or file in the image, not a directory'],
    ];
    for (const [line, message] of cases) {
      const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN echo file > /f && ln -s /f /l\n${line}\n`, "a.txt": "a\n", "rootfs/l/x": "x\n" });
      const r = await kb(["build", "--cache-dir", cache, "--no-push", "--output", `type=oci,dest=${tempDir()}/oci`, ctx]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(message);
      expect(r.err).toContain("Dockerfile:3");
    }
  });

  test("RUNs that change nothing keep an empty layer each, as BuildKit does (the same empty blob repeated)", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN true\nRUN true\nRUN true\nRUN echo x > /x\nRUN true\n` });
    const ref = `${reg.host}/run/empty:1`;
    const r = await kb(["build", "--cache-dir", cache, "-t", ref, ctx]);
    expect(r.code).toBe(0);
    const { skopeoRaw, skopeoConfig } = await import("../kit/kb.ts");
    const layers = (skopeoRaw(ref).layers as { digest: string }[]).map((l) => l.digest);
    expect(layers.length).toBe(6);
    expect(new Set([layers[1], layers[2], layers[3], layers[5]]).size).toBe(1);
    expect((skopeoConfig(ref).history as { empty_layer?: boolean }[]).filter((h) => !h.empty_layer).length).toBe(6);
  });

  test("rm -rf of / inside RUN touches only the layer", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN rm -rf /* 2>/dev/null; true\n` });
    const before = readdirSync("/").sort();
    const r = await kb(["build", "--cache-dir", cache, "--no-push", ctx]);
    expect(r.code).toBe(0);
    expect(readdirSync("/").sort()).toEqual(before);
  });
});
