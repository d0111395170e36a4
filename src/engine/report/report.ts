// The build report: a self-contained HTML page (or JSON) with a step timeline per stage, layer sizes,
// the biggest files each layer adds, and where the time went.

import { printable } from "../../log/terminal.ts";
import { writeFile } from "node:fs/promises";
import type { EventSink, KbEvent } from "../../log/events.ts";
import type { BuildResult } from "../core/build.ts";

export interface TimedEvent { at: number; ev: KbEvent }

/** A sink that keeps every event with the time it arrived (ms since the sink was made). */
export function createTimelineSink(): EventSink & { events: TimedEvent[] } {
  const t0 = performance.now();
  const events: TimedEvent[] = [];
  return { events, emit: (ev) => void events.push({ at: performance.now() - t0, ev }) };
}

export interface ReportStep { stage: string; step: number; text: string; start: number; end: number; cached: boolean }
export interface ReportLayer { step: string; digest: string; size: number; biggest: { path: string; size: number }[] }

export interface BuildReport {
  digest?: string;
  size?: number;
  pushed: string[];
  totalMs: number;
  steps: ReportStep[];
  layers: ReportLayer[];
  timings: Record<string, number>;
  warnings: string[];
  /** Why the build failed (a failed build still gets its report, up to where it stopped). */
  error?: string;
}

/** Turns the timeline into steps with start/end times. */
export function stepsOf(events: TimedEvent[]): ReportStep[] {
  const open = new Map<string, ReportStep>();
  const out: ReportStep[] = [];
  for (const { at, ev } of events) {
    if (ev.type === "step-start") {
      const s = { stage: ev.stage, step: ev.step, text: ev.text, start: at, end: at, cached: false };
      open.set(`${ev.stage}/${ev.step}`, s);
      out.push(s);
    } else if (ev.type === "step-end") {
      const s = open.get(`${ev.stage}/${ev.step}`);
      if (s) (s.end = at), (s.cached = ev.cached);
    }
  }
  return out;
}

const esc = (s: string) => printable(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;

/** Renders the report as one HTML page with inline SVG (no scripts, no network). */
export function renderReportHtml(r: BuildReport): string {
  const stages = [...new Set(r.steps.map((s) => s.stage))];
  const total = Math.max(r.totalMs, ...r.steps.map((s) => s.end), 1);
  const W = 900, rowH = 22, left = 260;
  const rows = r.steps.map((s, i) => {
    const x = left + (s.start / total) * (W - left - 10);
    const w = Math.max(2, ((s.end - s.start) / total) * (W - left - 10));
    const color = s.cached ? "#7fb3d5" : "#e59866";
    return `<text x="4" y="${i * rowH + 15}" font-size="11">${esc(`[${s.stage}] ${s.text}`.slice(0, 44))}</text><rect x="${x.toFixed(1)}" y="${i * rowH + 4}" width="${w.toFixed(1)}" height="14" fill="${color}"><title>${esc(s.text)}: ${((s.end - s.start) / 1000).toFixed(2)}s${s.cached ? " (cached)" : ""}</title></rect>`;
  });
  const timeline = `<svg width="${W}" height="${r.steps.length * rowH + 10}" role="img" aria-label="step timeline">${rows.join("")}</svg>`;
  const maxL = Math.max(1, ...r.layers.map((l) => l.size));
  const bars = r.layers.map((l, i) => `<text x="4" y="${i * rowH + 15}" font-size="11">${esc(l.step.slice(0, 40))}</text><rect x="${left}" y="${i * rowH + 4}" width="${Math.max(2, (l.size / maxL) * (W - left - 90)).toFixed(1)}" height="14" fill="#76b041"/><text x="${W - 80}" y="${i * rowH + 15}" font-size="11">${mb(l.size)}</text>`);
  const layerChart = `<svg width="${W}" height="${r.layers.length * rowH + 10}" role="img" aria-label="layer sizes">${bars.join("")}</svg>`;
  const timeRows = Object.entries(r.timings).sort((a, b) => b[1] - a[1]).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${(v / 1000).toFixed(2)} s</td></tr>`).join("");
  const biggest = r.layers.map((l) => `<h3>${esc(l.step)} <small>${esc(l.digest.slice(0, 19))}</small></h3><ol>${l.biggest.map((f) => `<li><code>${esc(f.path)}</code> ${mb(f.size)}</li>`).join("")}</ol>`).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>kb build report</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}code{font-size:12px}table{border-collapse:collapse}td{padding:2px 12px 2px 0}.k{color:#666}</style></head><body>
<h1>kb build report</h1>
${r.error ? `<p><strong>Build failed:</strong> <code>${esc(r.error)}</code></p>\n` : ""}<p><span class="k">image</span> <code>${esc(r.digest ?? "(not built)")}</code> · <span class="k">size</span> ${mb(r.size ?? 0)} · <span class="k">time</span> ${(r.totalMs / 1000).toFixed(2)} s · <span class="k">stages</span> ${stages.length}${r.pushed.length ? ` · <span class="k">pushed</span> ${esc(r.pushed.join(", "))}` : ""}</p>
<h2>Steps</h2><p class="k">orange: ran · blue: cached</p>${timeline}
<h2>Layers</h2>${layerChart}
<h2>Where the time went</h2><table>${timeRows}</table>
<h2>Biggest files per layer</h2>${biggest}
${r.warnings.length ? `<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
</body></html>\n`;
}

/** Writes the report as HTML or JSON, by the file's extension. */
export async function writeReport(path: string, result: Pick<BuildResult, "digest" | "size" | "pushed" | "ms" | "timings" | "layers">, events: TimedEvent[], layers: ReportLayer[] = result.layers ?? [], error?: string): Promise<void> {
  const report: BuildReport = {
    digest: result.digest,
    size: result.size,
    pushed: result.pushed,
    totalMs: result.ms,
    steps: stepsOf(events),
    layers,
    timings: result.timings,
    warnings: events.flatMap(({ ev }) => (ev.type === "warning" ? [ev.message] : [])),
    ...(error ? { error } : {}),
  };
  await writeFile(path, path.endsWith(".json") ? JSON.stringify(report, null, 2) + "\n" : renderReportHtml(report));
}
