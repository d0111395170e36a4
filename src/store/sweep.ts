// Leftovers of dead builds: every tmp/ entry is named "<pid>-…" and each process records its start time in
// tmp/<pid>-owner, so a build sweeps what a SIGKILLed one left (temp dirs, staged secrets, RUN scratch dirs)
// without mistaking a new process that reuses the pid for the old one.

import { readFileSync } from "node:fs";
import { readdir, readFile, rm, writeFile, rename } from "node:fs/promises";
import { removeOwnTree } from "../layer/index.ts";
import { join } from "node:path";
import { pidAlive } from "./lock.ts";
import type { Store } from "./blob-store.ts";

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

const ownerName = (pid: number) => `${pid}-owner`;

/** Records this process (pid + start time) in the store's tmp/ so its entries are never swept while it lives. */
export async function registerProcess(store: Store, pid = process.pid): Promise<void> {
  const start = processStartTime(pid);
  if (start === undefined) return;
  const tmp = join(store.dirs.tmp, `${ownerName(pid)}.${Math.random().toString(36).slice(2)}`);
  await writeFile(tmp, start, { mode: 0o600 });
  await rename(tmp, join(store.dirs.tmp, ownerName(pid)));
}

/** What a sweep removed, and what it could not (a rootless RUN's files owned by other ids). */
export interface SweepReport {
  removed: string[];
  failed: string[];
}

/** True when the process that made entries named "<pid>-…" is still the one running under that pid. */
async function stillRunning(tmpDir: string, pid: number): Promise<boolean> {
  if (!pidAlive(pid)) return false;
  const recorded = await readFile(join(tmpDir, ownerName(pid)), "utf8").catch(() => undefined);
  return recorded === undefined || recorded.trim() === processStartTime(pid);
}

/**
 * Removes tmp/ entries of processes that no longer exist, under the store's "sweep" lock (skipped when another
 * process holds it). Entries of live processes, and names without a pid, are left alone (prune ages those).
 * @example await sweepLeftovers(store)
 */
export async function sweepLeftovers(store: Store): Promise<SweepReport> {
  const report: SweepReport = { removed: [], failed: [] };
  try {
    await store.withLock("sweep", async () => {
      const names = await readdir(store.dirs.tmp).catch(() => [] as string[]);
      const verdict = new Map<number, Promise<boolean>>();
      for (const name of names) {
        const m = /^(\d+)-/.exec(name);
        if (!m) continue;
        const pid = Number(m[1]);
        if (!verdict.has(pid)) verdict.set(pid, stillRunning(store.dirs.tmp, pid));
        if (await verdict.get(pid)) continue;
        if (name === ownerName(pid)) continue; // removed last, below
        try {
          await removeOwnTree(join(store.dirs.tmp, name));
          report.removed.push(name);
        } catch {
          report.failed.push(name);
        }
      }
      for (const [pid, alive] of verdict) {
        if (!(await alive) && !report.failed.some((n) => n.startsWith(`${pid}-`))) await rm(join(store.dirs.tmp, ownerName(pid)), { force: true });
      }
    }, { timeoutMs: 0 });
  } catch {
    // another process is sweeping
  }
  return report;
}

/** Removes this process's record when it is done with the store (a build that ends leaves tmp/ as it found it). */
export async function unregisterProcess(store: Store, pid = process.pid): Promise<void> {
  await rm(join(store.dirs.tmp, ownerName(pid)), { force: true });
}
