// Command-line options of bench/run.ts.

import type { ToolName } from "./tools.ts";

export interface BenchArgs {
  cases?: string[];
  all: boolean;
  runs: number;
  quick: boolean;
  warmup: boolean;
  tools: ToolName[];
  kb: string;
  /** A second kb to run as tool "kb-base" (a path or "CMD ARGS"): before/after pairs in one run. */
  kbBase?: string;
  seed: string;
  out?: string;
  /** Re-render results files instead of running: one file prints its table, two compare. */
  render?: string[];
}

export const usage = `Usage: bun bench/run.ts [--cases a,b] [--all] [--runs N] [--quick] [--tools kb,kb-base,buildah-vfs,buildah-overlay,buildkit]
                        [--kb auto|source|dist|"CMD ARGS"] [--kb-base "CMD ARGS"] [--no-warmup] [--seed S] [--out PREFIX]
       bun bench/run.ts --render A.json [B.json]   (print A's table and chart; with B, compare the two runs)
  --cases   only these cases (heavy ones like 2gb-image run only when named or with --all)
  --runs    measured runs per case after one warm-up run (default 3)
  --quick   1 run, no warm-up, contexts at 1/10 size: checks the harness, not for numbers
  --kb      how to start kb (default auto: dist/kb when newer than src/, else bun src/main.ts)
  --kb-base a second kb ("CMD ARGS"), run as tool kb-base (add it to --tools): kb/kb-base pairs before and after`;

const TOOLS: ToolName[] = ["kb", "kb-base", "buildah-vfs", "buildah-overlay", "buildkit"];

/** Parses argv (without the program name). Throws with the usage text on a bad option. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = { all: false, runs: 3, quick: false, warmup: true, tools: TOOLS.filter((t) => t !== "kb-base"), kb: "auto", seed: "kb-bench-1" };
  let runsSet = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
      return v;
    };
    if (flag === "--cases") a.cases = value().split(",").filter(Boolean);
    else if (flag === "--all") a.all = true;
    else if (flag === "--runs") (a.runs = Number(value())), (runsSet = true);
    else if (flag === "--quick") a.quick = true;
    else if (flag === "--no-warmup") a.warmup = false;
    else if (flag === "--kb") a.kb = value();
    else if (flag === "--kb-base") a.kbBase = value();
    else if (flag === "--seed") a.seed = value();
    else if (flag === "--out") a.out = value();
    else if (flag === "--render") a.render = [value(), ...(argv[i + 1] && !argv[i + 1]!.startsWith("--") ? [argv[++i]!] : [])];
    else if (flag === "--tools") {
      a.tools = value().split(",") as ToolName[];
      const bad = a.tools.find((t) => !TOOLS.includes(t));
      if (bad) throw new Error(`unknown tool "${bad}" (${TOOLS.join(", ")})\n${usage}`);
    } else if (flag === "--help" || flag === "-h") throw new Error(usage);
    else throw new Error(`unknown option "${arg}"\n${usage}`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error(`--runs must be a positive integer\n${usage}`);
  if (a.quick) {
    if (!runsSet) a.runs = 1;
    a.warmup = false;
  }
  return a;
}
