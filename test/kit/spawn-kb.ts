// kb as a real subprocess (bun src/main.ts), for tests that run several at once or kill one.

import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const BUN = path.join(ROOT, "node_modules/.bin/bun");

/** How a kb process ended. */
export interface KbExit { code: number | null; signal: string | null; out: string; err: string }

/** Starts `kb ARGS`; `done` settles when it exits. */
export function spawnKb(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<KbExit> } {
  const child = spawn(BUN, [path.join(ROOT, "src/main.ts"), ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const done = new Promise<KbExit>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}

/** PIDs of live processes whose command line or environment contains `marker`. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    for (const f of ["cmdline", "environ"]) {
      try {
        if (readFileSync(`/proc/${name}/${f}`).includes(marker)) {
          const stat = readFileSync(`/proc/${name}/stat`, "utf8");
          if (!/\) Z /.test(stat)) found.push(Number(name));
          break;
        }
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return found;
}

/** Waits up to `ms` for no process to carry `marker`; returns those still there. */
export async function waitNoProcesses(marker: string, ms = 5000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = processesWith(marker);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
