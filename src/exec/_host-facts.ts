// Reads the host facts the isolation probe needs: sysctls, capabilities, subordinate ids, setuid tools.

import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";

/** A number from a /proc file, or null when the file is absent or unreadable. */
export function readSysctl(file: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isNaN(n) ? null : n;
  } catch {
    return null;
  }
}

/** True when CapEff in /proc/self/status holds CAP_SYS_ADMIN (bit 21). */
export function hasCapSysAdmin(status = safeRead("/proc/self/status")): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? (BigInt(`0x${m[1]}`) & (1n << 21n)) !== 0n : false;
}

export function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** A subordinate id range from /etc/subuid or /etc/subgid. */
export interface SubIdRange {
  start: number;
  count: number;
}

/**
 * The first range granted to `name` or `uid` in subuid/subgid text ("owner:start:count" lines).
 * Malformed lines are skipped, never trusted.
 */
export function parseSubIds(text: string, name: string | undefined, uid: number): SubIdRange | undefined {
  for (const line of text.split("\n")) {
    const parts = line.trim().split(":");
    if (parts.length !== 3 || !(parts[0] === name || parts[0] === String(uid))) continue;
    if (!/^\d+$/.test(parts[1]) || !/^\d+$/.test(parts[2])) continue;
    const start = Number(parts[1]);
    const count = Number(parts[2]);
    if (count > 0 && start + count <= 2 ** 32 - 1) return { start, count };
  }
  return undefined;
}

/** The name of `uid` from /etc/passwd (then os.userInfo), when known. */
export function userName(uid: number): string | undefined {
  for (const line of safeRead("/etc/passwd").split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] === String(uid) && f[0]) return f[0];
  }
  try {
    const n = userInfo().username;
    return n && n !== "unknown" ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A setuid helper (newuidmap, newgidmap) found on PATH or in the usual places. */
export interface SetuidTool {
  path: string;
  setuid: boolean;
}

export function findSetuidTool(name: string): SetuidTool | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/bin", "/bin", "/usr/sbin"].filter(Boolean);
  for (const d of dirs) {
    try {
      const st = statSync(`${d}/${name}`);
      if (st.isFile()) return { path: `${d}/${name}`, setuid: (st.mode & 0o4000) !== 0 && st.uid === 0 };
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Are we in a container? Conservative: pid 1 is not an init system AND (the root mount is an
 * overlay OR pid 1's cgroup names a container runtime). Never from /.dockerenv.
 */
export function detectContainer(): { inside: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const comm = safeRead("/proc/1/comm").trim();
  const initLike = ["init", "systemd", "openrc-init", "runit", "s6-svscan", "launchd"].includes(comm);
  if (comm && !initLike) reasons.push(`pid 1 is "${comm}", not an init system`);
  const rootLine = safeRead("/proc/self/mountinfo").split("\n").find((l) => l.split(" ")[4] === "/");
  const rootFs = rootLine?.split(" - ")[1]?.split(" ")[0];
  if (rootFs === "overlay") reasons.push("the root mount is overlayfs");
  const cg = safeRead("/proc/1/cgroup");
  const runtime = /(docker|kubepods|containerd|libpod|lxc|crio)/.exec(cg)?.[1];
  if (runtime) reasons.push(`pid 1's cgroup names "${runtime}"`);
  return { inside: !!comm && !initLike && (rootFs === "overlay" || !!runtime), reasons };
}
