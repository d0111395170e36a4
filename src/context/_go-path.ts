// Go's path.Clean and filepath.Match (Unix flavour), ported byte for byte: .dockerignore and COPY depend on both.

/** Thrown by goMatch for a malformed pattern (Go's filepath.ErrBadPattern). */
export class BadPatternError extends Error {
  constructor(readonly pattern: string) {
    super("syntax error in pattern");
    this.name = "BadPatternError";
  }
}

/** Go `path.Clean` on a '/'-separated path: "" → ".", `a//b/../c/` → "a/c", `/..` → "/". */
export function cleanPath(p: string): string {
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const res = (rooted ? "/" : "") + out.join("/");
  return res === "" ? "." : res;
}

/** True when a path segment has an unescaped `*`, `?` or `[` (BuildKit's containsWildcards). */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

const enc = new TextEncoder();
const SLASH = 0x2f;
const RUNE_ERROR = 0xfffd;

/** Go utf8.DecodeRune: [rune, width]; invalid input gives [RuneError, 1]. */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i];
  if (b0 === undefined) return [RUNE_ERROR, 0];
  if (b0 < 0x80) return [b0, 1];
  const need = b0 >= 0xf0 && b0 <= 0xf4 ? 3 : b0 >= 0xe0 && b0 <= 0xef ? 2 : b0 >= 0xc2 && b0 <= 0xdf ? 1 : 0;
  if (need === 0 || i + need > b.length - 1) return [RUNE_ERROR, 1];
  let r = b0 & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
  for (let k = 1; k <= need; k++) {
    const c = b[i + k];
    if ((c & 0xc0) !== 0x80) return [RUNE_ERROR, 1];
    r = (r << 6) | (c & 0x3f);
  }
  const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return [RUNE_ERROR, 1];
  return [r, need + 1];
}

/** scanChunk: [star, chunk, rest] as byte offsets into p starting at `start`. */
function scanChunk(p: Uint8Array, start: number): [boolean, number, number, number] {
  let s = start;
  let star = false;
  while (s < p.length && p[s] === 0x2a) {
    s++;
    star = true;
  }
  let inrange = false;
  let i = s;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === 0x5c) {
      if (i + 1 < p.length) i++;
    } else if (c === 0x5b) inrange = true;
    else if (c === 0x5d) inrange = false;
    else if (c === 0x2a && !inrange) break;
  }
  return [star, s, i, i];
}

/** getEsc: [rune, nextIndex]; throws on a malformed class member. `end` bounds the chunk. */
function getEsc(p: Uint8Array, i: number, end: number, pattern: string): [number, number] {
  if (i >= end || p[i] === 0x2d || p[i] === 0x5d) throw new BadPatternError(pattern);
  if (p[i] === 0x5c) {
    i++;
    if (i >= end) throw new BadPatternError(pattern);
  }
  const [r, n] = decodeRune(p.subarray(0, end), i);
  if (r === RUNE_ERROR && n === 1) throw new BadPatternError(pattern);
  if (i + n >= end) throw new BadPatternError(pattern);
  return [r, i + n];
}

/** matchChunk: the rest offset into s on success, -1 on failure; throws on a bad chunk. */
function matchChunk(p: Uint8Array, cs: number, ce: number, s: Uint8Array, si: number, pattern: string): number {
  let failed = false;
  let c = cs;
  while (c < ce) {
    if (!failed && si >= s.length) failed = true;
    const ch = p[c];
    if (ch === 0x5b) {
      let r = 0;
      if (!failed) {
        const [rr, n] = decodeRune(s, si);
        r = rr;
        si += n;
      }
      c++;
      let negated = false;
      if (c < ce && p[c] === 0x5e) {
        negated = true;
        c++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c < ce && p[c] === 0x5d && nrange > 0) {
          c++;
          break;
        }
        let lo: number;
        let hi: number;
        [lo, c] = getEsc(p, c, ce, pattern);
        hi = lo;
        if (p[c] === 0x2d) [hi, c] = getEsc(p, c + 1, ce, pattern);
        if (lo <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (ch === 0x3f) {
      if (!failed) {
        if (s[si] === SLASH) failed = true;
        const [, n] = decodeRune(s, si);
        si += n;
      }
      c++;
    } else {
      if (ch === 0x5c) {
        c++;
        if (c >= ce) throw new BadPatternError(pattern);
      }
      if (!failed) {
        if (p[c] !== s[si]) failed = true;
        si++;
      }
      c++;
    }
  }
  return failed ? -1 : si;
}

/**
 * Go `filepath.Match(pattern, name)` on Unix: `*` and `?` never match '/', `[...]`/`[^...]` classes,
 * `\` escapes. Throws BadPatternError exactly where Go returns ErrBadPattern.
 */
export function goMatch(pattern: string, name: string): boolean {
  const p = enc.encode(pattern);
  const s = enc.encode(name);
  let pi = 0;
  let ni = 0;
  outer: while (pi < p.length) {
    const [star, cs, ce, rest] = scanChunk(p, pi);
    pi = rest;
    if (star && cs === ce) {
      // a trailing * matches the rest of the name unless it has a '/'
      return s.subarray(ni).indexOf(SLASH) < 0;
    }
    const t = matchChunk(p, cs, ce, s, ni, pattern);
    if (t >= 0 && (t === s.length || pi < p.length)) {
      ni = t;
      continue;
    }
    if (star) {
      for (let i = ni; i < s.length && s[i] !== SLASH; i++) {
        const t2 = matchChunk(p, cs, ce, s, i + 1, pattern);
        if (t2 >= 0) {
          if (pi === p.length && t2 < s.length) continue;
          ni = t2;
          continue outer;
        }
      }
    }
    // before returning false, check that the rest of the pattern is well-formed
    while (pi < p.length) {
      const [, cs2, ce2, rest2] = scanChunk(p, pi);
      pi = rest2;
      matchChunk(p, cs2, ce2, new Uint8Array(0), 0, pattern);
    }
    return false;
  }
  return ni === s.length;
}
