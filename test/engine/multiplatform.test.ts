// End to end: one kb build for linux/amd64 + linux/arm64 on a real busybox index, RUN under qemu through
// binfmt_misc, pushed as an OCI index to the real registry and read back with skopeo and umoci.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findEmulator, readBinfmt } from "../../src/exec/binfmt.ts";
import { pushBusyboxMultiArch } from "../kit/base-images.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { cleanup, kb, makeContext, must, skopeoRaw, tempDir, umociUnpack } from "../kit/kb.ts";

const isRoot = process.getuid?.() === 0;
const emu = findEmulator({ os: "linux", architecture: "arm64" }, (await readBinfmt()).entries.filter((e) => e.enabled));
const skip = !isRoot ? "not root: RUN needs the sandbox as root here"
  : process.arch !== "x64" ? "runs on x86_64 hosts (arm64 is emulated)"
  : !emu?.flags.includes("F") ? "no qemu-aarch64 registered with binfmt_misc (F flag): apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64"
  : undefined;
if (skip) console.log(`multiplatform.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip, busybox: { repo: "library/busybox-amd64only" } });
let base = "";
let single = "";
let fixtureSkip: string | undefined;
let cache = "";
const dirs: string[] = [];
beforeAll(async () => {
  if (skip) return;
  const pushed = await pushBusyboxMultiArch(reg);
  if ("skip" in pushed) fixtureSkip = pushed.skip;
  else base = pushed.ref;
  if (fixtureSkip) console.log(`multiplatform.test.ts: skipped the two-platform build: ${fixtureSkip}`);
  single = reg.base;
  cache = tempDir("kb-cache-");
  dirs.push(cache);
  // Packing the two busybox images (gzip -6 of each rootfs) takes seconds, more on a loaded machine: not bun's 5 s.
}, 300_000);
afterAll(() => {
  cleanup(...dirs);
});

const DOCKERFILE = (from: string) => `
FROM --platform=$BUILDPLATFORM ${from} AS tools
RUN uname -m > /built-on
FROM ${from}
ARG TARGETPLATFORM
ARG TARGETARCH
ARG BUILDPLATFORM
COPY --from=tools /built-on /built-on
RUN uname -m > /arch && echo "$TARGETPLATFORM $TARGETARCH $BUILDPLATFORM" > /args
`;

describe.skipIf(!!skip)("kb build --platform linux/amd64,linux/arm64", () => {
  test("pushes an index of both; the arm64 image's RUN ran the aarch64 busybox under qemu", async () => {
    if (fixtureSkip) return;
    const ctx = makeContext({ Dockerfile: DOCKERFILE(base) });
    dirs.push(ctx);
    const ref = `${reg.host}/multi/app:1`;
    const layout = join(tempDir("kb-oci-"), "layout");
    dirs.push(layout);
    const r = await kb(["build", "--cache-dir", cache, "--progress", "json", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", layout, "-t", ref, ctx]);
    if (r.code !== 0) console.log(r.err);
    expect(r.code).toBe(0);
    const events = r.err.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === "info" && /linux\/arm64: RUN via qemu-aarch64 \(binfmt_misc/.test(e.message))).toBe(true);
    // the build-platform stage ran once: for arm64 it came from the cache
    const toolsRun = events.filter((e) => e.type === "step-end" && / tools$/.test(e.stage) && e.text.startsWith("RUN"));
    expect(toolsRun.map((e) => [e.stage, e.cached])).toEqual([["linux/amd64 tools", false], ["linux/arm64 tools", true]]);

    const index = skopeoRaw(ref) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(["amd64", "arm64"]);

    const oci = tempDir("kb-arm64-");
    dirs.push(oci);
    must("skopeo", ["copy", "--src-tls-verify=false", "--override-arch", "arm64", `docker://${ref}`, `oci:${oci}/oci:img`]);
    umociUnpack(`${oci}/oci:img`, `${oci}/bundle`);
    const root = join(oci, "bundle", "rootfs");
    expect(must("file", ["-L", join(root, "bin/busybox")])).toContain("ARM aarch64");
    expect(readFileSync(join(root, "arch"), "utf8")).toBe("aarch64\n");
    expect(readFileSync(join(root, "built-on"), "utf8")).toBe("x86_64\n");
    expect(readFileSync(join(root, "args"), "utf8")).toBe("linux/arm64 arm64 linux/amd64\n");
    const config = JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", "--override-arch", "arm64", "--config", "--raw", `docker://${ref}`]));
    expect(config.architecture).toBe("arm64");

    // kb inspect lists both platforms; kb pull --platform picks one
    const inspect = await kb(["inspect", ref]);
    expect(inspect.code).toBe(0);
    expect(inspect.out).toContain("linux/amd64");
    expect(inspect.out).toContain("linux/arm64");
    const pulled = join(tempDir("kb-pull-"), "layout");
    dirs.push(join(pulled, ".."));
    const pull = await kb(["pull", "--platform", "linux/arm64", "--oci", pulled, ref]);
    if (pull.code !== 0) console.log(pull.err);
    expect(pull.code).toBe(0);
    expect(JSON.parse(must("skopeo", ["inspect", "--config", "--raw", `oci:${pulled}`])).architecture).toBe("arm64");

    // the OCI layout holds the same index
    const layoutIndex = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(layoutIndex.manifests[0].digest).toBe(events.find((e) => e.type === "result").digest);
    const fromLayout = JSON.parse(must("skopeo", ["inspect", "--raw", `oci:${layout}:1`]));
    expect(fromLayout).toEqual(index);
    const amd = tempDir("kb-amd64-");
    dirs.push(amd);
    must("skopeo", ["copy", "--override-arch", "amd64", `oci:${layout}:1`, `oci:${amd}/oci:img`]);
    umociUnpack(`${amd}/oci:img`, `${amd}/bundle`);
    expect(readFileSync(join(amd, "bundle/rootfs/arch"), "utf8")).toBe("x86_64\n");
    expect(readFileSync(join(amd, "bundle/rootfs/args"), "utf8")).toBe("linux/amd64 amd64 linux/amd64\n");
  }, 240_000);

  test("a platform the base does not provide fails naming what it has", async () => {
    if (fixtureSkip) return;
    const ctx = makeContext({ Dockerfile: `FROM ${base}\nRUN true\n` });
    dirs.push(ctx);
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--platform", "linux/amd64,linux/s390x", ctx]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('Cannot find platform "linux/s390x"');
    expect(r.err).toContain('"linux/amd64", "linux/arm64"');
  });

  test("a single-platform base of another architecture is refused, not relabelled", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${single}\nRUN true\n` });
    dirs.push(ctx);
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--platform", "linux/arm64", ctx]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('it has "linux/amd64" only');
  });

  test("several platforms into one docker archive is a usage error before anything is built", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${single}\n` });
    dirs.push(ctx);
    const tar = join(ctx, "out.tar");
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--platform", "linux/amd64,linux/arm64", "--tar-path", tar, ctx]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("a docker archive holds one image per tag");
    expect(existsSync(tar)).toBe(false);
  });
});

test("multiplatform.test.ts found its tools", () => {
  if (skip) return;
  expect(spawnSync("file", ["--version"]).status).toBe(0);
});
