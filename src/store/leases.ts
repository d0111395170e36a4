// Leases: what a running build uses (blobs, trees, cache records) is pinned in a lease file, and prune/GC skip
// pinned entries. A lease file is named by its process's pid and start time, so the lease of a build that was
// SIGKILLed (or of a pid reused by another program) is stale and ignored. Pins are written under the store's
// "gc" lock, which prune holds while it decides and deletes: a pin taken before an entry is used is either
// seen by the prune, or the prune finished first (and the build then sees the entry missing and remakes it).

import { appendFile, mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { pidAlive, withLock } from "./lock.ts";

/** The kinds of entries a lease pins. */
export type PinKind = "blob" | "tree" | "record";

/** The lock prune and GC hold while deciding and deleting, and a pin holds while being written. */
export const GC_LOCK = "gc";

/** A lease of one process over store entries. */
export interface Lease {
  readonly file: string;
  /** Pins an entry before it is used (no-op when already pinned by this lease). */
  pin(kind: PinKind, name: string): Promise<void>;
  /** Ends the lease (its pins are dropped). */
  release(): Promise<void>;
}

/** Pins of every live lease of a store. */
export interface LivePins {
  blobs: Set<string>;
  trees: Set<string>;
  records: Set<string>;
  /** Live leases read. */
  leases: number;
  /** Lease files of dead processes removed while reading. */
  stale: number;
}

/** The start time of a process (clock ticks since boot, /proc/PID/stat field 22), or "0" where unknown. */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "0";
  } catch {
    return "0";
  }
}

/** True when the process that wrote lease `name` ("PID-START-RANDOM") is still that process. */
export function leaseAlive(name: string): boolean {
  const m = /^(\d+)-(\d+)-[0-9a-f]+$/.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (!pidAlive(pid)) return false;
  return m[2] === "0" || processStart(pid) === m[2];
}

const leasesDir = (root: string) => join(root, "leases");

/**
 * Takes a lease over entries of the store at `root` (its `locks` dir holds the gc lock).
 * @example const lease = await takeLease(store.dirs.root, store.dirs.locks); await lease.pin("blob", digest)
 */
export async function takeLease(root: string, locksDir: string): Promise<Lease> {
  const dir = leasesDir(root);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${processStart(process.pid)}-${randomBytes(4).toString("hex")}`);
  await appendFile(file, "");
  const pinned = new Set<string>();
  let released = false;
  return {
    file,
    async pin(kind, name) {
      const line = `${kind} ${name}`;
      if (released || pinned.has(line)) return;
      pinned.add(line);
      await withLock(locksDir, GC_LOCK, () => appendFile(file, `${line}\n`));
    },
    async release() {
      released = true;
      await unlink(file).catch(() => {});
    },
  };
}

/** Reads the pins of every live lease; lease files of dead processes are removed. */
export async function livePins(root: string): Promise<LivePins> {
  const out: LivePins = { blobs: new Set(), trees: new Set(), records: new Set(), leases: 0, stale: 0 };
  const dir = leasesDir(root);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!leaseAlive(name)) {
      await unlink(join(dir, name)).catch(() => {});
      out.stale++;
      continue;
    }
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    out.leases++;
    for (const line of text.split("\n")) {
      const sp = line.indexOf(" ");
      if (sp < 0) continue;
      const kind = line.slice(0, sp);
      const v = line.slice(sp + 1);
      if (kind === "blob") out.blobs.add(v);
      else if (kind === "tree") out.trees.add(v);
      else if (kind === "record") out.records.add(v);
    }
  }
  return out;
}
