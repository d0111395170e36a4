// Debian slow suite: a bookworm minbase from debootstrap, `apt-get install` in RUN as root and rootless (a user
// with an /etc/subuid range), the package's files in the image (umoci unpack) and its binary running, both in a
// chroot of the unpacked rootfs and in kb's own sandbox in a second build.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { debianBaseUnavailable, pushDebianImage } from "../kit/debian-base.ts";
import { kb, listTree, makeContext, must, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { startRegistry, type TestRegistry } from "../kit/registry-server.ts";

const skip = process.env.KB_SLOW_TESTS !== "1" ? "slow suite: set KB_SLOW_TESTS=1 to run it"
  : debianBaseUnavailable() ?? (spawnSync("unshare", ["--user", "true"]).status !== 0 ? "user namespaces are not allowed here (kb RUN)" : undefined);
if (skip) console.log(`debian.test.ts: skipped: ${skip}`);

const INSTALL = "RUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*";

let reg: TestRegistry;
let base: string;
beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry("http");
  base = await pushDebianImage(reg);
}, 600_000);
afterAll(() => reg?.stop());

/** kb as the `kbtest` user (made with a 65536-id /etc/subuid range if missing), like a rootless CI job. */
function kbAsSubuidUser(args: string[]): { code: number | null; err: string } {
  if (spawnSync("id", ["kbtest"]).status !== 0) must("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "kbtest"]);
  if (!readFileSync("/etc/subuid", "utf8").includes("kbtest:")) must("usermod", ["--add-subuids", "200000-265535", "--add-subgids", "200000-265535", "kbtest"]);
  const home = tempDir("kb-home-");
  execFileSync("chown", ["kbtest", home]);
  chmodSync(home, 0o755);
  const helper = process.env.KB_SANDBOX_HELPER;
  const r = spawnSync("setpriv", ["--reuid=kbtest", "--regid=kbtest", "--init-groups", "env", `HOME=${home}`, `XDG_CACHE_HOME=${home}/.cache`, `TMPDIR=${home}`,
    ...(helper ? [`KB_SANDBOX_HELPER=${helper}`] : []), process.execPath, join(import.meta.dir, "../../src/main.ts"), ...args], { encoding: "utf8", cwd: home });
  return { code: r.status, err: r.stderr };
}

/** The package is in the image and its binary runs in a chroot of the unpacked rootfs. */
function checkHello(ref: string): void {
  const root = unpackFromRegistry(ref);
  const tree = listTree(root);
  expect(tree["usr/bin/hello"]).toMatchObject({ type: "file", mode: "0755", uid: 0, gid: 0 });
  expect(tree["usr/share/doc/hello/copyright"]?.type).toBe("file");
  expect(readFileSync(join(root, "var/lib/dpkg/status"), "utf8")).toContain("Package: hello\nStatus: install ok installed");
  expect(Object.keys(tree).filter((p) => p.startsWith("var/lib/apt/lists/") && p !== "var/lib/apt/lists/partial")).toEqual([]);
  expect(must("chroot", [root, "/usr/bin/hello"])).toBe("Hello, world!\n");
}

describe.skipIf(!!skip)("Debian bookworm base", () => {
  test("as root: apt-get install hello; the binary runs in a chroot and in a second kb build", async () => {
    const ref = `${reg.host}/debian/hello-root:1`;
    const r = await kb(["build", "--progress", "plain", "--no-cache", "-t", ref, makeContext({ Dockerfile: `FROM ${base}\n${INSTALL}\n` })]);
    if (r.code !== 0) console.log(r.err.slice(-4000));
    expect(r.code).toBe(0);
    checkHello(ref);
    const second = `${reg.host}/debian/hello-run:1`;
    const r2 = await kb(["build", "--progress", "plain", "-t", second, makeContext({ Dockerfile: `FROM ${ref}\nRUN hello > /greeting && dpkg -s hello | grep -q '^Status: install ok installed'\n` })]);
    if (r2.code !== 0) console.log(r2.err.slice(-4000));
    expect(r2.code).toBe(0);
    expect(readFileSync(join(unpackFromRegistry(second), "greeting"), "utf8")).toBe("Hello, world!\n");
  }, 600_000);

  const rootless = async (name: string, install: string) => {
    const ref = `${reg.host}/debian/${name}:1`;
    const ctx = makeContext({ Dockerfile: `FROM ${base}\n${install}\n` });
    chmodSync(ctx, 0o755);
    const r = kbAsSubuidUser(["build", "--progress", "plain", "-t", ref, ctx]);
    if (r.code !== 0) console.log(r.err.slice(-4000));
    expect(r.err).toContain("rootless");
    expect(r.code).toBe(0);
    checkHello(ref);
    return ref;
  };

  // A RUN that leaves a 0700 directory owned by a non-root container id (apt's _apt cache dir) is snapshotted
  // rootless through the helper's unlock/relock (decision 062).
  test("rootless (a user with an /etc/subuid range): apt-get install hello as Docker does it, _apt owning apt's cache dir", async () => {
    const ref = await rootless("hello-rootless", INSTALL);
    expect(listTree(unpackFromRegistry(ref))["var/cache/apt/archives/partial"]).toMatchObject({ type: "dir", mode: "0700", uid: 42 });
  }, 600_000);

  test("rootless (a user with an /etc/subuid range): apt-get install hello with apt's sandbox user set to root", async () => {
    await rootless("hello-rootless-nosandbox", INSTALL.replace("apt-get update", "apt-get -o APT::Sandbox::User=root update").replace("apt-get install", "apt-get -o APT::Sandbox::User=root install"));
  }, 600_000);
});
