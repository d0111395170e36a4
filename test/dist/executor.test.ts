// The kb executor image: built by kb from scratch, then its rootfs run like a pod (mount + pid namespace, chroot)
// building a Dockerfile with RUN in container mode, Kaniko-style flags.

import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stageExecutorContext } from "../../scripts/build-executor.ts";
import { ensureCompiledKb, runInRoot } from "../kit/throwaway-root.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, must, skopeoConfig, tempDir, unpackFromRegistry, unpackLayout } from "../kit/kb.ts";

const repo = join(import.meta.dir, "../..");
const binary = join(repo, "dist/kb");
const skip = process.getuid?.() !== 0 ? "not root: unpacking with owners and mknod need root" : undefined;
if (skip) console.log(`executor.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
beforeAll(async () => {
  if (skip) return;
  ensureCompiledKb();
}, 300_000);

describe.skipIf(!!skip)("the kb executor image", () => {
  test("is built by kb from scratch and builds a RUN Dockerfile from a pod-like root with Kaniko flags", async () => {
    const ctx = stageExecutorContext(binary);
    const ref = `${reg.host}/kb/executor:test`;
    const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", "-t", ref, ctx]);
    expect(r.code).toBe(0);
    const cfg = skopeoConfig(ref).config as { Entrypoint: string[]; Env: string[] };
    expect(cfg.Entrypoint).toEqual(["/kaniko/executor"]);
    expect(cfg.Env).toContain("DOCKER_CONFIG=/kaniko/.docker/");

    const rootfs = unpackFromRegistry(ref);
    // What a container runtime gives a pod: /proc (mounted by unshare), /dev nodes, the mounted workspace.
    mkdirSync(join(rootfs, "proc"), { recursive: true });
    mkdirSync(join(rootfs, "dev"), { recursive: true });
    for (const [name, minor] of [["null", 3], ["zero", 5], ["random", 8], ["urandom", 9]] as const) must("mknod", ["-m", "666", join(rootfs, "dev", name), "c", "1", String(minor)]);
    writeFileSync(join(rootfs, "workspace/Dockerfile"), `FROM ${reg.base}\nRUN echo "built in a pod" > /pod.txt\nCOPY note.txt /note.txt\n`);
    writeFileSync(join(rootfs, "workspace/note.txt"), "note\n");
    const out = `${reg.host}/kb/from-pod:1`;
    // Kaniko's command line: no subcommand, the executor's name says "build".
    const run = await runInRoot(rootfs, ["/kaniko/executor", "--force", "--context", "dir:///workspace", "--dockerfile", "/workspace/Dockerfile", "--destination", out, "--verbosity", "info", "--snapshot-mode", "redo"], { HOME: "/root", DOCKER_CONFIG: "/kaniko/.docker/", KB_CACHE_DIR: "/kaniko/cache" });
    if (run.code !== 0) console.log(run.stderr);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("container");
    expect(run.stderr).toContain("--snapshot-mode"); // accepted with a one-line notice
    const built = unpackFromRegistry(out);
    expect(readFileSync(join(built, "pod.txt"), "utf8")).toBe("built in a pod\n");
    expect(readFileSync(join(built, "note.txt"), "utf8")).toBe("note\n");
    expect(existsSync(join(rootfs, "kaniko/executor"))).toBe(true);
  }, 180_000);
});
