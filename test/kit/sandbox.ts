// Test kit for the sandbox: a busybox root filesystem built from /bin/busybox, and run specs over it.

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RunSpec } from "../../src/exec/index.ts";

export const BUSYBOX = "/bin/busybox";

/** Why sandbox tests cannot run here, or undefined when they can. */
export function sandboxSkipReason(): string | undefined {
  if (!existsSync(BUSYBOX)) return "no /bin/busybox (apt-get install busybox-static)";
  if (process.platform !== "linux") return "not Linux";
  return undefined;
}

/** Builds a busybox rootfs in `dir`: applet symlinks, passwd/group (root, nobody, app 1000), a 1777 /tmp. */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ["bin", "etc", "tmp", "root", "home/app", "proc", "dev", "sys", "var"]) mkdirSync(path.join(dir, d), { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  chmodSync(path.join(dir, "tmp"), 0o1777);
  copyFileSync(BUSYBOX, path.join(dir, "bin/busybox"));
  chmodSync(path.join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
  for (const a of applets) symlinkSync("busybox", path.join(dir, "bin", a));
  writeFileSync(path.join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  writeFileSync(path.join(dir, "etc/group"), "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n");
  return dir;
}

/** A fresh upper + work pair under `base` (never on overlayfs). */
export function makeUpper(base: string): { upperDir: string; workDir: string } {
  const d = mkdtempSync(path.join(base, "run-"));
  chmodSync(d, 0o755);
  const upperDir = path.join(d, "upper");
  const workDir = path.join(d, "work");
  mkdirSync(upperDir, { mode: 0o755 });
  mkdirSync(workDir, { mode: 0o755 });
  return { upperDir, workDir };
}

/** A RUN spec running `sh -c script` as root over `lowerDirs`. */
export function shellSpec(lowerDirs: string[], script: string, base: string, extra: Partial<RunSpec> = {}): RunSpec & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const dec = new TextDecoder();
  return {
    lowerDirs, ...makeUpper(base),
    args: ["/bin/sh", "-c", script],
    env: ["PATH=/bin", "HOME=/root"],
    cwd: "/",
    user: { uid: 0, gid: 0, groups: [] },
    network: "host",
    mounts: [],
    hostname: "kbtest",
    etc: { hosts: "127.0.0.1 localhost\n", resolvConf: "nameserver 127.0.0.53\n" },
    stdout: (c) => { out += dec.decode(c, { stream: true }); },
    stderr: (c) => { err += dec.decode(c, { stream: true }); },
    ...extra,
    out: () => out,
    err: () => err,
  };
}
