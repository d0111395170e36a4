// Go time.ParseDuration, returning integer nanoseconds (as a number; exact up to 2^53 ns ≈ 104 days).

import { KbError } from "../errors.ts";

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses "1m30s", "500ms", "0", "-1.5h" like Go. @example parseGoDuration("1m30s") // 90_000_000_000 */
export function parseGoDuration(s: string): number {
  const bad = () =>
    new KbError("DOCKERFILE_INSTRUCTION", `Cannot parse duration "${s}": invalid duration`, {
      hint: 'use a Go duration such as "30s", "1m30s" or "500ms"',
    });
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw bad();
  let total = 0;
  while (rest !== "") {
    const m = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw bad();
    const unit = UNITS[m[3]!]!;
    total += Number(m[1] || "0") * unit + (m[2] ? Math.round(Number("0." + m[2]) * unit) : 0);
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}
