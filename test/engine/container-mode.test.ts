// Container mode, as in a pod with no privileges to make namespaces: the compiled kb runs chrooted in a throwaway
// root (mount + pid namespace, like a container) with --isolation container, and must give the same image tree
// as the namespace sandbox.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureCompiledKb, makeThrowawayRoot, runInRoot } from "../kit/throwaway-root.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, listTree, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";

const repo = join(import.meta.dir, "../..");
const binary = join(repo, "dist/kb");
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? "not root: a throwaway root needs mknod and unshare" : undefined;
if (skip) console.log(`container-mode.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
let root = "";
beforeAll(async () => {
  if (skip) return;
  ensureCompiledKb();
}, 300_000);
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const DOCKERFILE = (b: string) => `FROM ${b}
RUN echo made > /made.txt && mkdir -p /opt/x && echo 1 > /opt/x/one && ln -s one /opt/x/link && rm /bin/vi && chmod 0700 /opt/x
COPY data.txt /opt/data.txt
RUN cat /opt/data.txt > /opt/copy.txt && rm -rf /usr/share
`;

describe.skipIf(!!skip)("kb build --isolation container", () => {
  test("in a throwaway root: RUN in place gives the same tree as the sandbox", async () => {
    const ctx = makeContext({ Dockerfile: DOCKERFILE(reg.base), "data.txt": "data\n" });
    const refSandbox = `${reg.host}/cm/sandbox:1`;
    const a = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", "-t", refSandbox, ctx]);
    expect(a.code).toBe(0);

    root = makeThrowawayRoot(binary, {
      "/workspace/Dockerfile": { text: DOCKERFILE(reg.base) },
      "/workspace/data.txt": { text: "data\n" },
      "/etc/ssl/certs/ca-certificates.crt": "/etc/ssl/certs/ca-certificates.crt",
    });
    const refContainer = `${reg.host}/cm/container:1`;
    const r = await runInRoot(root, ["/kb", "build", "--isolation", "container", "--force", "--cache-dir", "/kb-cache", "--progress", "plain", "--context", "dir:///workspace", "--destination", refContainer], { HOME: "/root" });
    if (r.code !== 0) console.log(r.stderr);
    expect(r.stderr).toContain("RUN isolation: container");
    expect(r.code).toBe(0);
    const t1 = listTree(unpackFromRegistry(refSandbox));
    const t2 = listTree(unpackFromRegistry(refContainer));
    expect(t2).toEqual(t1);
    // kb's own binary and the context were never touched by the base or the RUNs.
    expect(existsSync(join(root, "kb"))).toBe(true);
    expect(existsSync(join(root, "workspace/Dockerfile"))).toBe(true);
    // ... and the throwaway root now holds the stage's filesystem, as Kaniko leaves it.
    expect(existsSync(join(root, "made.txt"))).toBe(true);
  }, 120_000);

  test("--ulimit and --shm-size are refused in container mode (the RUN runs in kb's own container), before / is touched", async () => {
    root ||= makeThrowawayRoot(binary, { "/workspace/Dockerfile": { text: DOCKERFILE(reg.base) }, "/workspace/data.txt": { text: "data\n" } });
    execFileSync("sh", ["-c", `echo keep > ${root}/keep.txt`]);
    for (const flag of [["--ulimit", "nofile=100"], ["--shm-size", "128m"]]) {
      const r = await runInRoot(root, ["/kb", "build", "--isolation", "container", "--force", "--no-cache", "--cache-dir", "/kb-cache", "--no-push", ...flag, "--context", "dir:///workspace"], { HOME: "/root" });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`Cannot apply ${flag[0]} in container mode`);
      expect(r.stderr).toContain("Dockerfile:2");
    }
    expect(existsSync(join(root, "keep.txt"))).toBe(true);
  }, 120_000);

  test("outside a container, container mode is refused unless forced", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN true\n` });
    const r = await kb(["build", "--isolation", "container", "--no-push", "--cache-dir", tempDir("kb-cache-"), ctx]);
    if (spawnSync("systemd-detect-virt", ["-c"]).status === 0) return; // this machine is itself a container
    expect(r.code).toBe(1);
    expect(r.err).toContain("rewrites /");
  });
});
