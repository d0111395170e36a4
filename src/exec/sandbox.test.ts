// Sandbox tests as root: real namespaces and overlayfs over a busybox rootfs, diffed with diffUpperDir.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, linkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { diffUpperDir } from "../snapshot/overlay-diff.ts";
import { makeBusyboxRootfs, sandboxSkipReason, shellSpec } from "../../test/kit/sandbox.ts";
import { resolveHelperPath } from "../helper/index.ts";
import { createSandbox } from "./sandbox.ts";
import type { Sandbox } from "./types.ts";

const isRoot = process.getuid?.() === 0;
const skip = sandboxSkipReason() ?? (isRoot ? undefined : "not root (the rootless suite covers other users)");
if (skip) console.log(`sandbox.test.ts: skipped: ${skip}`);

let base = "";
let rootfs = "";
let data = "";
let sb: Sandbox;
let helper = "";

beforeAll(async () => {
  if (skip) return;
  base = mkdtempSync(path.join(tmpdir(), "kb-sbx-"));
  rootfs = makeBusyboxRootfs(path.join(base, "rootfs"));
  data = path.join(base, "data");
  for (const d of ["data/deldir/sub", "data/recreate"]) mkdirSync(path.join(data, d), { recursive: true });
  for (const f of ["keep", "change", "chmod", "del", "deldir/sub/x", "recreate/old"]) writeFileSync(path.join(data, "data", f), `${f}\n`);
  helper = await resolveHelperPath();
  sb = createSandbox({ isolation: "root", helperPath: helper });
});
afterAll(() => { if (base) rmSync(base, { recursive: true, force: true }); });

async function entries(upper: string) {
  const out: string[] = [];
  for await (const { entry, body } of diffUpperDir(upper, { helperPath: helper })) {
    await body?.cancel();
    out.push(`${entry.type} ${entry.path}${entry.linkname ? ` -> ${entry.linkname}` : ""} ${entry.mode.toString(8)} ${entry.uid}:${entry.gid}`);
  }
  return out;
}

describe.skipIf(!!skip)("createSandbox() as root", () => {
  test("`run()` snapshots creates, changes, chmods, deletes, opaque dirs, hardlinks and symlinks exactly", async () => {
    const s = shellSpec([data, rootfs], [
      "cd /data", "echo new > added", "echo more >> change", "chmod 600 chmod", "rm del", "rm -rf deldir",
      "rm -rf recreate", "mkdir recreate", "echo n > recreate/new", "echo h > h1", "ln h1 h2", "ln -s added sym",
      "chown 1000:1000 added",
    ].join(" && "), base);
    const r = await sb.run(s);
    expect(s.err()).toBe("");
    expect(r).toEqual({ exitCode: 0 });
    expect(await entries(s.upperDir)).toEqual([
      "dir data 755 0:0",
      "file data/added 644 1000:1000",
      "file data/change 644 0:0",
      "file data/chmod 600 0:0",
      "file data/.wh.del 0 0:0",
      "file data/.wh.deldir 0 0:0",
      "file data/h1 644 0:0",
      "hardlink data/h2 -> data/h1 644 0:0",
      "dir data/recreate 755 0:0",
      "file data/recreate/.wh..wh..opq 0 0:0",
      "file data/recreate/new 644 0:0",
      "symlink data/sym -> added 777 0:0",
    ]);
  });

  test("`run()` runs as the USER with a fresh /proc, the generated /etc files and an empty diff for them", async () => {
    const s = shellSpec([rootfs], "id; echo pid=$$; cat /etc/hosts /etc/resolv.conf; hostname; ls /proc | grep -c '^[0-9]'", base, {
      user: { uid: 1000, gid: 1000, groups: [65534] }, cwd: "/tmp",
    });
    expect(await sb.run(s)).toEqual({ exitCode: 0 });
    const out = s.out();
    expect(out).toStartWith("uid=1000(app) gid=1000(app) groups=65534(nogroup)\npid=1\n127.0.0.1 localhost\nnameserver 127.0.0.53\nkbtest\n");
    // sh (pid 1), ls and maybe grep (it may not have started when ls read /proc): nothing of the host
    expect(Number(out.trim().split("\n").pop())).toBeLessThanOrEqual(3);
    expect(readdirSync(s.upperDir)).toEqual([]);
  });

  test("`run()` with network none sees only lo, and it is up", async () => {
    const s = shellSpec([rootfs], "ls /sys/class/net; cat /sys/class/net/lo/operstate; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok", base, { network: "none" });
    expect(await sb.run(s)).toEqual({ exitCode: 0 });
    expect(s.out()).toBe("lo\nunknown\nping-ok\n");
  });

  test("`run()` returns the command's exit code and 127 for a missing command", async () => {
    expect(await sb.run(shellSpec([rootfs], "exit 3", base))).toEqual({ exitCode: 3 });
    const s = shellSpec([rootfs], "", base, { args: ["no-such-tool"] });
    expect(await sb.run(s)).toEqual({ exitCode: 127 });
    expect(s.err()).toContain('exec "no-such-tool"');
  });

  test("`run()` kills a daemon the command leaves behind", async () => {
    const marker = `kbdaemon${process.pid}`;
    const s = shellSpec([rootfs], `(exec -a ${marker} sleep 1000) >/dev/null 2>&1 & echo started`, base);
    expect(await sb.run(s)).toEqual({ exitCode: 0 });
    const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(ps.includes(marker)).toBe(false);
  });

  test("`run()` with a timeout kills a command that runs forever", async () => {
    const r = await sb.run(shellSpec([rootfs], "while :; do sleep 1; done", base), { timeoutMs: 300 });
    expect(r).toEqual({ exitCode: 137, signal: "SIGKILL", timedOut: true });
  });

  test("`run()` rejects on abort after killing the tree", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 200);
    await expect(sb.run(shellSpec([rootfs], "sleep 1000", base), { signal: ac.signal })).rejects.toThrow("stop");
  });

  test("`run()` of rm -rf /* leaves the host and the lower dirs untouched", async () => {
    const hostFile = path.join(base, "host-sentinel");
    writeFileSync(hostFile, "x");
    const before = readdirSync(rootfs).length;
    const s = shellSpec([rootfs], "rm -rf /* 2>/dev/null; ls / | wc -l", base);
    await sb.run(s);
    expect(existsSync(hostFile)).toBe(true);
    expect(readdirSync(rootfs).length).toBe(before);
    expect(existsSync(path.join(rootfs, "bin/busybox"))).toBe(true);
    expect(readdirSync(s.upperDir)).toContain("bin");
  });

  test("`run()` reports a broken setup as a SANDBOX error naming the step", async () => {
    const s = shellSpec([path.join(base, "missing-layer")], "true", base);
    await expect(sb.run(s)).rejects.toThrow(/Cannot set up the RUN sandbox: mount overlay/);
  });

  test("`run()` overhead of `true` x 20 and a 10-file diff on a 100,000-file lower dir (printed)", async () => {
    let t = performance.now();
    for (let i = 0; i < 20; i++) await sb.run(shellSpec([rootfs], "", base, { args: ["/bin/true"] }));
    console.log(`sandbox: per-RUN overhead of true: ${((performance.now() - t) / 20).toFixed(1)} ms (root)`);
    const big = path.join(base, "big");
    for (let d = 0; d < 100; d++) {
      mkdirSync(path.join(big, `d${d}`), { recursive: true });
      for (let f = 0; f < 1000; f++) writeFileSync(path.join(big, `d${d}`, `f${f}`), "");
    }
    const s = shellSpec([big, rootfs], "for i in 0 1 2 3 4 5 6 7 8 9; do echo x > /d$i/f$i; done", base);
    expect(await sb.run(s)).toEqual({ exitCode: 0 });
    t = performance.now();
    const e = await entries(s.upperDir);
    console.log(`snapshot: diff of 10 changed files over 100,000 lower files: ${(performance.now() - t).toFixed(1)} ms`);
    expect(e.length).toBe(20);
    rmSync(big, { recursive: true, force: true });
  }, 120_000);
});
