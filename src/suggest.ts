// "Did you mean …?" suggestions (BuildKit util/suggest): the closest candidate with Levenshtein distance < 3.
// The one suggest of kb: the Dockerfile front end, the engine and the CLI all use it.

/** Levenshtein edit distance. */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Options of {@link suggest}. */
export interface SuggestOptions {
  /** Without a close candidate, fall back to the first one `value` (3+ characters) is a prefix of (flags, commands, stages). */
  prefix?: boolean;
}

/**
 * The closest candidate (case-insensitive) with distance < 3, else (with `prefix`) one that starts with `value`.
 * @example suggest("RUNN", ["RUN"]) // "RUN"
 * @example suggest("plat", ["platform"], { prefix: true }) // "platform"
 */
export function suggest(value: string, candidates: readonly string[], opts: SuggestOptions = {}): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  const v = value.toLowerCase();
  for (const c of candidates) {
    const d = levenshtein(v, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  if (best === undefined && opts.prefix && value.length >= 3) return candidates.find((c) => c.startsWith(value));
  return best;
}
