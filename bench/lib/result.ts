// The JSON a bench run writes (bench/results/<date>.json) and the metrics read out of it.

import type { Cost } from "./measure.ts";
import type { ToolName } from "./tools.ts";

/** kb's step timings for one phase, from its --report JSON. */
export interface KbPhaseDetail { totalMs: number; timings: Record<string, number>; steps: { text: string; ms: number; cached: boolean }[] }

/** One run of one tool on one case: cold (empty cache), warm (no change), change (one file changed). */
export interface Sample {
  run: number;
  cold: Cost;
  warm: Cost;
  change: Cost;
  /** Seconds spent pushing in the cold build. */
  pushS: number;
  /** Compressed image size in the registry: config + layers, MB. */
  sizeMB: number;
  kb?: { cold: KbPhaseDetail; warm: KbPhaseDetail; change: KbPhaseDetail };
}

export interface CaseResult { name: string; description: string; samples: Partial<Record<ToolName, Sample[]>> }

export interface BenchResult {
  date: string;
  machine: Record<string, string | number>;
  command: string;
  kb: string;
  /** git commit of the kb tree that was measured. */
  commit: string;
  tools: { name: ToolName; describe: string }[];
  runs: number;
  quick: boolean;
  seed: string;
  skipped: string[];
  cases: CaseResult[];
}

/** A metric of a sample, by name; every metric is "smaller is better". */
export const metrics: { key: string; label: string; unit: string; get: (s: Sample) => number }[] = [
  { key: "cold", label: "cold build+push", unit: "s", get: (s) => s.cold.wallS },
  { key: "warm", label: "warm (no change)", unit: "s", get: (s) => s.warm.wallS },
  { key: "change", label: "one file changed", unit: "s", get: (s) => s.change.wallS },
  { key: "push", label: "push (cold)", unit: "s", get: (s) => s.pushS },
  { key: "cpu", label: "CPU user+sys (cold)", unit: "s", get: (s) => s.cold.cpuS },
  { key: "rss", label: "peak RSS (any phase)", unit: "MB", get: (s) => Math.max(s.cold.rssMB, s.warm.rssMB, s.change.rssMB) },
  { key: "size", label: "image size", unit: "MB", get: (s) => s.sizeMB },
];
