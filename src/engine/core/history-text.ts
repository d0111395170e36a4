// History `created_by` texts as BuildKit's Dockerfile frontend writes them: it formats values with Go's fmt
// (%v of a []string is "[a b]", %q is "[\"a\" \"b\"]", a map prints its keys sorted, a Duration as "1m30s",
// an int under %q as a quoted rune). Matching them makes `docker history` of a kb image read like Docker's.

/** Go's %v of a []string. */
export const goList = (v: string[]): string => `[${v.join(" ")}]`;

/** Go's strconv.Quote for the common case (JSON's escaping agrees for printable text). */
const goQuote = (s: string): string => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, "\\x$1").replace(/\\u007f/g, "\\x7f");

/** Go's %q of a []string. */
export const goQuotedList = (v: string[]): string => `[${v.map(goQuote).join(" ")}]`;

/** Go's time.Duration.String() of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${trim(n / 1e3)}µs`;
  else if (n < 1e9) out = `${trim(n / 1e6)}ms`;
  else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    out = `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${trim(n / 1e9)}s`;
  }
  return neg ? `-${out}` : out;
}

const trim = (x: number) => String(Number(x.toFixed(9)));

/** Go's %q of an int: a quoted rune ('\x04', 'A'). */
export function goRune(n: number): string {
  if (n >= 0x20 && n < 0x7f) return n === 0x27 ? "'\\''" : n === 0x5c ? "'\\\\'" : `'${String.fromCharCode(n)}'`;
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, "0")}'`;
  return `'\\u${n.toString(16).padStart(4, "0")}'`;
}

/** BuildKit 20.10's HEALTHCHECK history: `HEALTHCHECK %q` of &HealthConfig{Test, Interval, Timeout, StartPeriod, Retries}. */
export function healthcheckText(h: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number }): string {
  return `HEALTHCHECK &{${goQuotedList(h.Test ?? [])} "${goDuration(h.Interval ?? 0)}" "${goDuration(h.Timeout ?? 0)}" "${goDuration(h.StartPeriod ?? 0)}" ${goRune(h.Retries ?? 0)}}`;
}

/** Go's %v of a map[string]struct{} (nat.PortSet): keys sorted as strings. */
export const goSet = (keys: string[]): string => `map[${[...new Set(keys)].sort().map((k) => `${k}:{}`).join(" ")}]`;

/**
 * BuildKit's RUN history: the stage's declared ARGs as "|N K=V …" (the value ENV gives, else the ARG's), then the
 * command's argv joined by spaces.
 */
export function runText(argv: string[], args: { key: string; value: string }[]): string {
  const prefix = args.length ? [`|${args.length}`, ...args.map((a) => `${a.key}=${a.value}`)] : [];
  return `RUN ${[...prefix, ...argv].join(" ")}`;
}
