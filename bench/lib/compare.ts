// Compares two bench results: does each median of the second fall within the first's min–max (and back)?

import type { BenchResult } from "./result.ts";
import { metrics } from "./result.ts";
import { fmt, fmtSpread, spread } from "./stats.ts";

/** One line per case × tool × timed metric, marking where the two runs' spreads do not overlap. */
export function compareResults(a: BenchResult, b: BenchResult, keys = ["cold", "warm", "change", "cpu", "rss"]): { text: string; agree: number; total: number } {
  const lines = ["| case | tool | metric | run A | run B | agree |", "|---|---|---|---|---|---|"];
  let agree = 0;
  let total = 0;
  for (const ca of a.cases) {
    const cb = b.cases.find((c) => c.name === ca.name);
    if (!cb) continue;
    for (const t of a.tools.map((x) => x.name)) {
      for (const m of metrics.filter((x) => keys.includes(x.key))) {
        const sa = spread((ca.samples[t] ?? []).map(m.get));
        const sb = spread((cb.samples[t] ?? []).map(m.get));
        if (sa.n === 0 || sb.n === 0) continue;
        const ok = sa.max >= sb.min && sb.max >= sa.min;
        total++;
        if (ok) agree++;
        lines.push(`| ${ca.name} | ${t} | ${m.key} | ${fmtSpread(sa)} | ${fmtSpread(sb)} | ${ok ? "yes" : `no (${fmt(sb.median / sa.median)}×)`} |`);
      }
    }
  }
  return { text: lines.join("\n"), agree, total };
}
