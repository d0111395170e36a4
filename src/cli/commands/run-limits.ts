// docker build's --ulimit and --shm-size for every RUN: parsed as the docker CLI parses them (go-units ParseUlimit,
// RAMInBytes), and checked against what this kb process may set, so a refusal comes before the build starts.

import { readFileSync } from "node:fs";
import { KbError } from "../../errors.ts";
import { ULIMIT_NAMES, type Ulimit, type UlimitName } from "../../engine/core/options.ts";
import { parseSize } from "./cache.ts";

/** The /proc/self/limits row of each name (what the kernel shows; "unlimited" is -1). */
const LIMITS_ROW: Record<UlimitName, string> = {
  core: "Max core file size", cpu: "Max cpu time", data: "Max data size", fsize: "Max file size", locks: "Max file locks",
  memlock: "Max locked memory", msgqueue: "Max msgqueue size", nice: "Max nice priority", nofile: "Max open files",
  nproc: "Max processes", rss: "Max resident set", rtprio: "Max realtime priority", rttime: "Max realtime timeout",
  sigpending: "Max pending signals", stack: "Max stack size",
};

/** A limit value: a whole number, or -1 for unlimited (as docker's ulimit takes it). */
function limitValue(v: string, s: string): number {
  if (!/^-?\d+$/.test(v) || BigInt(v) > BigInt(Number.MAX_SAFE_INTEGER) || (v.startsWith("-") && v !== "-1")) {
    throw new KbError("USAGE", `Cannot use --ulimit "${s}": "${v}" is not a limit`, { hint: "limits are whole numbers, or -1 for unlimited" });
  }
  return Number(v);
}

/** `--ulimit NAME=SOFT[:HARD]` (HARD defaults to SOFT), as `docker build --ulimit` takes it. */
export function parseUlimit(s: string): Ulimit {
  const eq = s.indexOf("=");
  const name = eq > 0 ? s.slice(0, eq) : "";
  if (!name) throw new KbError("USAGE", `Cannot use --ulimit "${s}": expected NAME=SOFT[:HARD]`, { hint: "e.g. --ulimit nofile=1024:4096" });
  if (!(ULIMIT_NAMES as readonly string[]).includes(name)) {
    throw new KbError("USAGE", `Cannot use --ulimit "${s}": unknown limit "${name}"`, { hint: `one of ${ULIMIT_NAMES.join(", ")}` });
  }
  const parts = s.slice(eq + 1).split(":");
  if (parts.length > 2) throw new KbError("USAGE", `Cannot use --ulimit "${s}": expected NAME=SOFT[:HARD]`, { hint: "e.g. --ulimit nofile=1024:4096" });
  const soft = limitValue(parts[0]!, s);
  const hard = parts[1] === undefined ? soft : limitValue(parts[1], s);
  if (hard !== -1 && (soft === -1 || soft > hard)) {
    throw new KbError("USAGE", `Cannot use --ulimit "${s}": the soft limit is above the hard limit`, { hint: "write SOFT:HARD with SOFT ≤ HARD" });
  }
  return { name: name as UlimitName, soft, hard };
}

/** The hard limits of this process, from /proc/self/limits (undefined where it cannot be read). */
export function ownHardLimits(text = readProc("/proc/self/limits")): Partial<Record<UlimitName, number>> {
  const out: Partial<Record<UlimitName, number>> = {};
  for (const name of ULIMIT_NAMES) {
    const row = text.split("\n").find((l) => l.startsWith(LIMITS_ROW[name]));
    const hard = row?.slice(26).trim().split(/\s+/)[1];
    if (hard) out[name] = hard === "unlimited" ? -1 : Number(hard);
  }
  return out;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Whether this process may raise a hard limit: CAP_SYS_RESOURCE (bit 24) in its effective set, from /proc/self/status. */
export function canRaiseHardLimits(status = readProc("/proc/self/status")): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> 24n) & 1n) === 1n;
}

/**
 * The --ulimit flags, each at most once per name (the last wins, as in docker). Raising a hard limit needs
 * CAP_SYS_RESOURCE over the host (not even a user namespace gives it), so without it a higher one is refused here,
 * with the limit kb has.
 */
export function parseUlimits(values: string[], mayRaise?: boolean, own?: Partial<Record<UlimitName, number>>): Ulimit[] {
  const byName = new Map<UlimitName, Ulimit>();
  for (const v of values) {
    const u = parseUlimit(v);
    // /proc is read only when there is a limit to check (not on every build).
    own ??= ownHardLimits();
    mayRaise ??= canRaiseHardLimits();
    const have = own[u.name];
    if (!mayRaise && have !== undefined && have !== -1 && (u.hard === -1 || u.hard > have)) {
      throw new KbError("USAGE", `Cannot use --ulimit "${v}": the hard limit is above kb's own (${have}), and raising one needs root (CAP_SYS_RESOURCE), which kb does not have`, {
        hint: `use a hard limit of at most ${have}, or raise kb's (ulimit -H in the shell that starts kb, or the CI runner's settings)`,
      });
    }
    byName.set(u.name, u);
  }
  return [...byName.values()];
}

/** `--shm-size SIZE` ("128m", "1g", a byte count): the size of every RUN's /dev/shm; 0 keeps the default 64 MiB. */
export function parseShmSize(s: string): number | undefined {
  const n = parseSize(s, "--shm-size");
  if (n > 0 && n < 4096) throw new KbError("USAGE", `Cannot use --shm-size "${s}": below one page (4 KiB)`, { hint: 'e.g. --shm-size 256m' });
  return n === 0 ? undefined : n;
}
