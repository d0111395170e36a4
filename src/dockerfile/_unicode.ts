// Go `unicode` predicates (IsSpace, IsLetter, IsDigit) for code points, so kb splits words exactly like BuildKit.

/** Go `unicode.IsSpace`: ASCII \t\n\v\f\r and space, U+0085, U+00A0 and the Unicode Z spaces. Not U+FEFF. */
export function isSpace(ch: string): boolean {
  switch (ch) {
    case " ": case "\t": case "\n": case "\v": case "\f": case "\r":
    case "\u0085": case "\u00a0": case "\u1680": case "\u2028": case "\u2029":
    case "\u202f": case "\u205f": case "\u3000":
      return true;
  }
  const c = ch.charCodeAt(0);
  return ch.length === 1 && c >= 0x2000 && c <= 0x200a;
}

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

/** Go `unicode.IsLetter` for one code point. */
export function isLetter(ch: string): boolean {
  if (ch.length === 1) {
    const c = ch.charCodeAt(0);
    if (c < 0x80) return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  }
  return LETTER.test(ch);
}

/** Go `unicode.IsDigit` (category Nd) for one code point. */
export function isDigit(ch: string): boolean {
  if (ch.length === 1) {
    const c = ch.charCodeAt(0);
    if (c < 0x80) return c >= 0x30 && c <= 0x39;
  }
  return DIGIT.test(ch);
}

/** Go `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  return i === 0 ? s : s.slice(i);
}

/** Go `strings.TrimSpace`. */
export function trimSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1]!)) end--;
  return trimLeftSpace(end === s.length ? s : s.slice(0, end));
}

/** Go `regexp.MustCompile("[\t\v\f\r ]+").Split(s, n)` (n = -1 for all). */
export function splitWhitespace(s: string, n = -1): string[] {
  if (n === 2) {
    const m = /[\t\v\f\r ]+/.exec(s);
    return m ? [s.slice(0, m.index), s.slice(m.index + m[0].length)] : [s];
  }
  return s.split(/[\t\v\f\r ]+/);
}
