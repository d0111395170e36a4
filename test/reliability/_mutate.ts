// Seeded mutators for fuzzing readers: byte-level (flip, cut, splice, insert) and JSON-structural
// (replace, delete or retype a value at a random path), so checks past JSON.parse get exercised too.

/** Random integer in [0, n). */
export const pick = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

const ODD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 60), "", "sha256:", "sha256:" + "0".repeat(64), "sha256:" + "g".repeat(64),
  "../../etc/passwd", "\u0000", "x".repeat(300), [], {}, [null], { digest: 1 }, "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json", "__proto__", { __proto__: { polluted: 1 } }, Number.NaN,
];

/** A random JSON-ish value (odd values more often than not). */
export function randomValue(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  if (r < 0.6 || depth > 2) return ODD_VALUES[pick(rnd, ODD_VALUES.length)];
  if (r < 0.8) return Array.from({ length: pick(rnd, 4) }, () => randomValue(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = pick(rnd, 4); i > 0; i--) o[["mediaType", "digest", "size", "layers", "config", "manifests", "a"][pick(rnd, 7)]] = randomValue(rnd, depth + 1);
  return o;
}

/** Replaces, deletes or adds one value somewhere inside a deep copy of `doc`. */
export function mutateJson(rnd: () => number, doc: unknown): unknown {
  const copy = structuredClone(doc);
  const holders: Array<Record<string, unknown> | unknown[]> = [];
  const visit = (v: unknown) => {
    if (v && typeof v === "object") {
      holders.push(v as Record<string, unknown>);
      for (const c of Object.values(v)) visit(c);
    }
  };
  visit(copy);
  if (holders.length === 0) return randomValue(rnd);
  const h = holders[pick(rnd, holders.length)];
  const keys = Object.keys(h);
  const op = rnd();
  if (keys.length && op < 0.5) (h as Record<string, unknown>)[keys[pick(rnd, keys.length)]] = randomValue(rnd);
  else if (keys.length && op < 0.75) {
    if (Array.isArray(h)) h.splice(pick(rnd, h.length), 1);
    else delete h[keys[pick(rnd, keys.length)]];
  } else if (Array.isArray(h)) h.push(randomValue(rnd));
  else h[["mediaType", "digest", "size", "extra", "schemaVersion"][pick(rnd, 5)]] = randomValue(rnd);
  return copy;
}

/** Flips, cuts, duplicates or inserts random bytes. */
export function mutateBytes(rnd: () => number, input: Uint8Array): Uint8Array {
  const b = Uint8Array.from(input);
  const op = rnd();
  if (op < 0.35 && b.length) {
    for (let i = 1 + pick(rnd, 8); i > 0; i--) b[pick(rnd, b.length)] = pick(rnd, 256);
    return b;
  }
  if (op < 0.55) return b.subarray(0, pick(rnd, b.length + 1));
  if (op < 0.75) {
    const at = pick(rnd, b.length + 1);
    const ins = Uint8Array.from({ length: 1 + pick(rnd, 16) }, () => pick(rnd, 256));
    return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
  }
  if (op < 0.9 && b.length) {
    const from = pick(rnd, b.length);
    const len = pick(rnd, Math.min(64, b.length - from) + 1);
    const at = pick(rnd, b.length + 1);
    return Uint8Array.from([...b.subarray(0, at), ...b.subarray(from, from + len), ...b.subarray(at)]);
  }
  return Uint8Array.from({ length: pick(rnd, 256) }, () => pick(rnd, 256));
}

/** Random text over an alphabet that hits a parser's special characters. */
export function randomText(rnd: () => number, alphabet: string, maxLen: number): string {
  let s = "";
  for (let i = pick(rnd, maxLen + 1); i > 0; i--) s += alphabet[pick(rnd, alphabet.length)];
  return s;
}
