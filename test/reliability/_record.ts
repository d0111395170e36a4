// Figures the reliability tests measure, printed in the test output and (when KB_RELIABILITY_OUT names a
// directory) appended as JSON lines for test/reliability/report.ts to turn into docs/reliability.md.

import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";

/** One measured figure: which suite, what was counted, the value and an optional note. */
export interface Figure {
  suite: string;
  what: string;
  value: number | string;
  note?: string;
}

/** How many iterations a fuzz or fault loop runs: `KB_FUZZ_ITERATIONS` when set, else `fallback`. */
export function iterations(fallback: number): number {
  const n = Number(process.env.KB_FUZZ_ITERATIONS);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** True in the long mode (`KB_FUZZ_ITERATIONS` set). */
export const longMode = (): boolean => process.env.KB_FUZZ_ITERATIONS !== undefined;

/** Prints a figure and keeps it for the report. */
export function record(suite: string, what: string, value: number | string, note?: string): void {
  console.log(`[reliability] ${suite}: ${what} = ${value}${note ? ` (${note})` : ""}`);
  const dir = process.env.KB_RELIABILITY_OUT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const fig: Figure = { suite, what, value, ...(note ? { note } : {}) };
  appendFileSync(path.join(dir, `figures-${process.pid}.jsonl`), `${JSON.stringify(fig)}\n`);
}

/** Counts outcomes by name (e.g. error codes) for one record line: "MANIFEST_INVALID 812, ok 188". */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }
  toString(): string {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  }
}
