// Renders a bench result as a Markdown table: per case and metric, each tool's median (min–max) and kb/tool ratios.

import type { BenchResult } from "./result.ts";
import { metrics } from "./result.ts";
import { fmtSpread, pairedRatio, spread } from "./stats.ts";

/** A Markdown table (also readable in a terminal). */
export function renderTable(r: BenchResult): string {
  const tools = r.tools.map((t) => t.name);
  const others = tools.filter((t) => t !== "kb");
  const head = ["case", "metric", ...tools.map((t) => `${t}`), ...others.map((o) => `kb/${o}`)];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const c of r.cases) {
    for (const m of metrics) {
      const per = tools.map((t) => (c.samples[t] ?? []).map(m.get));
      const cells = per.map((xs) => fmtSpread(spread(xs)));
      const kbXs = per[tools.indexOf("kb")] ?? [];
      const ratios = others.map((o) => fmtSpread(pairedRatio(kbXs, per[tools.indexOf(o)] ?? [])));
      lines.push(`| ${c.name} | ${m.label} (${m.unit}) | ${[...cells, ...ratios].join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

/** kb-only figures from its own report: mean RUN step time on the change phase, snapshot time. */
export function renderKbDetails(r: BenchResult): string {
  const out: string[] = [];
  for (const c of r.cases) {
    const ks = (c.samples.kb ?? []).flatMap((s) => (s.kb ? [s.kb] : []));
    if (ks.length === 0) continue;
    const runMs = ks.map((k) => {
      const runs = k.change.steps.filter((s) => s.text.startsWith("RUN") && !s.cached);
      return runs.length ? runs.reduce((a, s) => a + s.ms, 0) / runs.length : NaN;
    });
    const keys = [...new Set(ks.flatMap((k) => Object.keys(k.change.timings)))].sort();
    const timing = keys.map((key) => `${key} ${fmtSpread(spread(ks.map((k) => k.change.timings[key] ?? NaN)))} ms`).join(", ");
    const warm = fmtSpread(spread(ks.map((k) => k.warm.totalMs)));
    out.push(`- ${c.name}: kb-internal warm ${warm} ms; change phase: mean RUN step ${fmtSpread(spread(runMs))} ms; ${timing}`);
  }
  return out.join("\n");
}
