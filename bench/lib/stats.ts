// Summaries over benchmark runs: median with min–max spread, and ratios of two tools' medians.

/** Median, min and max of a list of numbers (NaN when empty). */
export interface Spread { median: number; min: number; max: number; n: number }

/** Summarises `xs` (NaNs dropped). */
export function spread(xs: number[]): Spread {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/**
 * kb/other ratio as median of the per-run ratios, with min–max over runs. Runs are paired by index
 * (run i of kb and run i of the other tool ran back to back, alternating), so machine drift cancels.
 */
export function pairedRatio(kb: number[], other: number[]): Spread {
  const n = Math.min(kb.length, other.length);
  const rs: number[] = [];
  for (let i = 0; i < n; i++) if (other[i]! > 0) rs.push(kb[i]! / other[i]!);
  return spread(rs);
}

/** "1.23" / "12.3" / "123" : three significant digits, or "–" for NaN. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** "median (min–max)". */
export function fmtSpread(s: Spread): string {
  if (s.n === 0) return "–";
  return s.n === 1 ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}
