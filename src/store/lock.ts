// Cross-process locks for the store: exclusive lockfiles (link(2) of a written temp) holding "pid@host", with stale-lock takeover.
// Chosen over flock(1) in a child process: see docs/decisions/051-store-locks.md.

import { hostname } from "node:os";
import { join } from "node:path";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { KbError } from "../errors.ts";

/** Options of {@link withLock}. */
export interface LockOptions {
  /** Give up after this many ms. @default 600000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** True when a process with this pid exists on this machine. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function owner(): string {
  return `${process.pid}@${hostname()}`;
}

/** A lock owned by a dead process on this host is stale; locks of other hosts are never broken. */
function isStale(content: string): boolean {
  const m = /^(\d+)@(.*)$/.exec(content.trim());
  if (!m) return true; // not written by kb: lockfiles appear fully written (link of a written temp file)
  return m[2] === hostname() && !pidAlive(Number(m[1]));
}

/** Creates the lockfile atomically with its content: write a private temp file, then link(2) it (EEXIST = taken). */
async function tryCreate(file: string): Promise<boolean> {
  const temp = `${file}.${process.pid}-${randomBytes(6).toString("hex")}`;
  await writeFile(temp, owner(), { flag: "wx" });
  try {
    await link(temp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Moves a stale lock aside; if what was moved turns out not to be the stale one, puts it back. */
async function breakStale(file: string, seen: string): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  if (moved !== seen) await link(aside, file).catch(() => {}); // a live lock: restore it unless re-taken
  await unlink(aside).catch(() => {});
}

/**
 * Runs `fn` while holding the named lock in `locksDir`, shared by every kb process using the store.
 * Waits (polling with backoff) while another live process holds it; takes over locks of dead processes.
 * @example await withLock(store.dirs.locks, "tree-abc", async () => extract())
 */
export async function withLock<T>(locksDir: string, name: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  if (!NAME_RE.test(name)) throw new KbError("STORE", `Cannot lock "${name}": lock names are [A-Za-z0-9._-]`);
  const file = join(locksDir, `${name}.lock`);
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let wait = 2;
  while (!(await tryCreate(file))) {
    opts.signal?.throwIfAborted();
    const content = await readFile(file, "utf8").catch(() => undefined);
    if (content !== undefined && isStale(content)) {
      await breakStale(file, content);
      continue;
    }
    if (Date.now() > deadline) {
      throw new KbError("STORE", `Cannot take lock "${file}": held by "${content?.trim()}"`, {
        hint: "another kb process is using this store; if none is running, delete the lock file",
        temporary: true,
      });
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => {});
  }
}
