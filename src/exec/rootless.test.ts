// Rootless sandbox tests: kb runs as `nobody` (single id) and as `kbtest` (an /etc/subuid range) via setpriv.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { makeBusyboxRootfs, sandboxSkipReason } from "../../test/kit/sandbox.ts";
import { resolveHelperPath } from "../helper/index.ts";

const TEST_USER = "kbtest";
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
const skip = sandboxSkipReason() ?? (!isRoot ? "not root: cannot switch to other users" : !hasSetpriv ? "no setpriv (util-linux)" : undefined);
if (skip) console.log(`rootless.test.ts: skipped: ${skip}`);

let base = "";
let rootfs = "";
let helper = "";

/** Creates the test user with a subordinate id range when missing (as root). */
function ensureSubidUser(): void {
  if (spawnSync("id", [TEST_USER]).status !== 0) execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER]);
  if (!readFileSync("/etc/subuid", "utf8").split("\n").some((l) => l.startsWith(`${TEST_USER}:`))) {
    execFileSync("usermod", ["--add-subuids", "200000-265535", "--add-subgids", "200000-265535", TEST_USER]);
  }
}

beforeAll(async () => {
  if (skip) return;
  ensureSubidUser();
  base = mkdtempSync("/tmp/kb-rootless-");
  chmodSync(base, 0o755);
  rootfs = makeBusyboxRootfs(path.join(base, "rootfs"));
  helper = path.join(base, "kb-sandbox");
  copyFileSync(await resolveHelperPath(), helper);
  chmodSync(helper, 0o755);
});
afterAll(() => { if (base) rmSync(base, { recursive: true, force: true }); });

function runAs(user: string, group: string, script: string, lower = rootfs) {
  const bun = process.execPath;
  const r = spawnSync("setpriv", [`--reuid=${user}`, `--regid=${group}`, "--clear-groups", "env", `HOME=${base}`, `TMPDIR=${base}`,
    `KB_SANDBOX_HELPER=${helper}`, bun, path.join(import.meta.dir, "../../test/kit/rootless-run.ts"), lower, script], { encoding: "utf8", cwd: "/" });
  if (r.status !== 0) throw new Error(`driver failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

describe.skipIf(!!skip)("createSandbox() rootless", () => {
  test("as nobody: single id, `id` shows root, chown to 1000 fails clearly, the diff maps ids back", () => {
    chmodSync(base, 0o777); // the driver's scratch dirs live here
    const r = runAs("nobody", "nogroup", "id -u; touch /f; mkdir /d; chown 1000:1000 /f");
    expect(r.mode).toBe("rootless");
    expect(r.warnings[0]).toContain("single id");
    expect(r.out).toBe("0\n");
    expect(r.err).toContain("chown: /f: Invalid argument");
    expect(r.result.exitCode).toBe(1);
    expect(r.entries).toEqual(["dir d 0:0", "file f 0:0"]);
    console.log(`sandbox: per-RUN overhead of true: ${r.overheadMs.toFixed(1)} ms (rootless, single id)`);
  });

  test(`as ${TEST_USER}: a full subuid range, chown to 1000 works and maps back to 1000`, () => {
    // A rootless store extracts layers as the caller (container root): a root-owned lower is not writable.
    const own = makeBusyboxRootfs(path.join(base, "rootfs-own"));
    execFileSync("chown", ["-R", `${TEST_USER}:${TEST_USER}`, own]);
    const r = runAs(TEST_USER, TEST_USER, "cat /proc/self/uid_map | wc -l; touch /f; chown 1000:1000 /f; rm /bin/vi", own);
    expect(r.mode).toBe("rootless");
    expect(r.warnings).toEqual([]);
    expect(r.result).toEqual({ exitCode: 0 });
    expect(r.out.trim()).toBe("2");
    expect(r.entries).toEqual(["dir bin 0:0", "file bin/.wh.vi 0:0", "file f 1000:1000"]);
    console.log(`sandbox: per-RUN overhead of true: ${r.overheadMs.toFixed(1)} ms (rootless, newuidmap)`);
  });
});
