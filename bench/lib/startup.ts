// The kb binary itself: its size and how long `kb version` takes to start (median of 20 runs).

import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";

export interface BinaryFacts {
  command: string;
  sizeMB?: number;
  versionStartupMs: { median: number; min: number; max: number };
}

/** Measures `CMD version` 20 times after 2 warm-up runs; size only when CMD is a single file. */
export function measureStartup(cmd: string[]): BinaryFacts {
  const times: number[] = [];
  for (let i = 0; i < 22; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), "version"], { stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${cmd.join(" ")} version failed`);
    if (i >= 2) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  let sizeMB: number | undefined;
  if (cmd.length === 1) sizeMB = statSync(cmd[0]!).size / 1e6;
  return { command: cmd.join(" "), sizeMB, versionStartupMs: { median: times[times.length >> 1]!, min: times[0]!, max: times[times.length - 1]! } };
}

export function renderStartup(b: BinaryFacts): string {
  const s = b.versionStartupMs;
  return `kb binary: ${b.command}${b.sizeMB !== undefined ? `, ${b.sizeMB.toFixed(1)} MB` : ""}; \`kb version\` start-up ${s.median.toFixed(1)} ms (${s.min.toFixed(1)}–${s.max.toFixed(1)}, 20 runs)`;
}
