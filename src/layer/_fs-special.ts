// Private: device nodes, fifos and xattrs, which node:fs cannot make: done through coreutils mknod/mkfifo
// and attr's setfattr (Debian package "attr"), one short child process each (they are rare in layers).

import { execFileSync } from "node:child_process";

function runTool(cmd: string, args: string[]): Error | undefined {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; code?: string; message: string };
    return new Error(err.code === "ENOENT" ? `the "${cmd}" program is not installed` : (err.stderr?.toString().trim() || err.message));
  }
}

/** Makes a char/block device; returns the error instead of throwing (EPERM is normal when rootless). */
export function mknod(p: string, type: "char" | "block", major: number, minor: number): Error | undefined {
  return runTool("mknod", [p, type === "char" ? "c" : "b", String(major), String(minor)]);
}

export function mkfifo(p: string): Error | undefined {
  return runTool("mkfifo", [p]);
}

/** Sets one xattr on `p` without following a symlink; `value` is a byte string. */
export function setXattr(p: string, name: string, value: string): Error | undefined {
  const hex = Buffer.from(value, "latin1").toString("hex");
  return runTool("setfattr", ["-h", "-n", name, "-v", hex ? `0x${hex}` : '""', p]);
}
