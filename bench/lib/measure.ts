// Runs one child process under GNU time: wall seconds, CPU seconds (user+sys of the child tree), peak RSS.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** What one measured command cost. `rssMB` is the largest max-resident-set of any process in the child tree. */
export interface Cost { wallS: number; cpuS: number; rssMB: number }

export interface Measured extends Cost { code: number; output: string; lines: { at: number; text: string }[] }

const TIME = "/usr/bin/time";

/** True when GNU time (Debian package "time") is installed. */
export const hasGnuTime = (): boolean => existsSync(TIME);

/**
 * Runs `cmd args` and measures it. Wall time is taken here around the spawn (sub-10 ms resolution);
 * CPU and peak RSS come from GNU time (`%U %S %M`, from wait4's rusage, which covers waited-for descendants).
 */
export async function measure(cmd: string, args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; keepLine?: (line: string) => boolean } = {}): Promise<Measured> {
  const dir = mkdtempSync(path.join(tmpdir(), "kb-bench-time-"));
  const out = path.join(dir, "time");
  const useTime = hasGnuTime();
  const argv = useTime ? [TIME, "-o", out, "-f", "%U %S %M", cmd, ...args] : [cmd, ...args];
  const t0 = performance.now();
  const lines: { at: number; text: string }[] = [];
  let partial = "";
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    const keep = (d: Buffer) => {
      text = (text + d.toString()).slice(-20000);
      if (!opts.keepLine) return;
      const parts = (partial + d.toString()).split("\n");
      partial = parts.pop()!;
      for (const l of parts) if (opts.keepLine(l)) lines.push({ at: performance.now() - t0, text: l });
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c ?? 1, output: text }));
  });
  const wallS = (performance.now() - t0) / 1000;
  let cpuS = NaN;
  let rssMB = NaN;
  if (useTime && existsSync(out)) {
    const last = readFileSync(out, "utf8").trim().split("\n").pop() ?? "";
    const [u, s, m] = last.split(/\s+/).map(Number);
    cpuS = (u ?? NaN) + (s ?? NaN);
    rssMB = (m ?? NaN) / 1024;
  }
  rmSync(dir, { recursive: true, force: true });
  return { wallS, cpuS, rssMB, code, output, lines };
}

/** Sums costs of commands run one after the other (wall and CPU add up, RSS is the max). */
export function addCosts(...cs: Cost[]): Cost {
  return { wallS: cs.reduce((a, c) => a + c.wallS, 0), cpuS: cs.reduce((a, c) => a + c.cpuS, 0), rssMB: Math.max(...cs.map((c) => c.rssMB)) };
}
