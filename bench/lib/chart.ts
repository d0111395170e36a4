// Renders a bench result as an SVG bar chart: per metric (cold, warm, change) and case, one bar per tool
// (median) with a min–max whisker; each case's bars share a scale, labelled in seconds.

import type { BenchResult } from "./result.ts";
import { metrics } from "./result.ts";
import { fmt, spread } from "./stats.ts";

const COLORS: Record<string, string> = { kb: "#2e86c1", "kb-base": "#85c1e9", "buildah-vfs": "#cb4335", "buildah-overlay": "#e59866", buildkit: "#27ae60" };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One standalone SVG document (no scripts, no external fonts). */
export function renderChart(r: BenchResult, keys = ["cold", "warm", "change", "rss"]): string {
  const tools = r.tools.map((t) => t.name);
  const W = 900, left = 150, barH = 12, gap = 10, right = 110;
  const parts: string[] = [];
  let y = 52;
  parts.push(`<text x="10" y="22" font-size="16" font-weight="bold">kb vs buildah, ${esc(r.date)} (${r.runs} runs, median with min–max)</text>`);
  tools.forEach((t, i) => parts.push(`<rect x="${10 + i * 160}" y="30" width="12" height="12" fill="${COLORS[t] ?? "#888"}"/><text x="${26 + i * 160}" y="41" font-size="12">${t}</text>`));
  for (const key of keys) {
    const m = metrics.find((x) => x.key === key)!;
    parts.push(`<text x="10" y="${y + 14}" font-size="14" font-weight="bold">${esc(m.label)} (${m.unit})</text>`);
    y += 24;
    for (const c of r.cases) {
      const ss = tools.map((t) => spread((c.samples[t] ?? []).map(m.get)));
      const max = Math.max(...ss.map((s) => (Number.isFinite(s.max) ? s.max : 0)), 1e-9);
      const scale = (W - left - right) / max;
      parts.push(`<text x="10" y="${y + (tools.length * barH) / 2 + 4}" font-size="12">${esc(c.name)}</text>`);
      ss.forEach((s, i) => {
        const by = y + i * barH;
        if (s.n === 0) return;
        parts.push(`<rect x="${left}" y="${by}" width="${Math.max(1, s.median * scale).toFixed(1)}" height="${barH - 2}" fill="${COLORS[tools[i]!] ?? "#888"}"><title>${tools[i]}: ${fmt(s.median)} ${m.unit}</title></rect>`);
        if (s.n > 1) parts.push(`<line x1="${(left + s.min * scale).toFixed(1)}" x2="${(left + s.max * scale).toFixed(1)}" y1="${by + barH / 2 - 1}" y2="${by + barH / 2 - 1}" stroke="#000" stroke-width="1"/>`);
        parts.push(`<text x="${(left + Math.max(s.median, s.max) * scale + 4).toFixed(1)}" y="${by + barH - 3}" font-size="10">${fmt(s.median)}</text>`);
      });
      y += tools.length * barH + gap;
    }
    y += 10;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" font-family="sans-serif" viewBox="0 0 ${W} ${y}"><rect width="100%" height="100%" fill="#fff"/>${parts.join("")}</svg>\n`;
}
