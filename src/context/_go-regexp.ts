// Translates the small Go RE2 dialect that moby/patternmatcher generates into an equivalent JS RegExp (flag u).

/** Thrown when Go's regexp.Compile would reject the expression. */
export class BadRegexpError extends Error {}

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\u{0}-\\u{7f}", blank: "\\t ", cntrl: "\\u{0}-\\u{1f}\\u{7f}",
  digit: "0-9", graph: "!-~", lower: "a-z", print: " -~", punct: "!-/:-@\\[-`{-~", space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z", word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
};
const PERL: Record<string, string> = { d: "0-9", s: "\\t\\n\\f\\r ", w: "0-9A-Za-z_" };
const SIMPLE: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };

const cp = (n: number) => `\\u{${n.toString(16)}}`;
const isAlnum = (c: string) => /^[0-9A-Za-z]$/.test(c);
const isOct = (c: string | undefined) => c !== undefined && c >= "0" && c <= "7";

/** A literal code point from an escape at cs[i] === "\\": [codePoint, nextIndex]. */
function escapeChar(cs: string[], i: number): [number, number] {
  const c = cs[i + 1];
  if (c === undefined) throw new BadRegexpError("trailing backslash at end of expression");
  if (c.length === 1 && c.charCodeAt(0) < 0x80 && !isAlnum(c)) return [c.charCodeAt(0), i + 2];
  if (c in SIMPLE) return [SIMPLE[c], i + 2];
  if (c >= "0" && c <= "7") {
    if (c !== "0" && !isOct(cs[i + 2])) throw new BadRegexpError("backreferences are not supported");
    let r = 0;
    let j = i + 1;
    for (let k = 0; k < 3 && isOct(cs[j]); k++, j++) r = r * 8 + (cs[j].charCodeAt(0) - 48);
    return [r, j];
  }
  if (c === "x") {
    if (cs[i + 2] === "{") {
      const close = cs.indexOf("}", i + 3);
      const hex = cs.slice(i + 3, close).join("");
      if (close < 0 || !/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) throw new BadRegexpError("bad \\x");
      return [parseInt(hex, 16), close + 1];
    }
    const hex = (cs[i + 2] ?? "") + (cs[i + 3] ?? "");
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new BadRegexpError("bad \\x");
    return [parseInt(hex, 16), i + 4];
  }
  throw new BadRegexpError(`invalid escape sequence: \\${c}`);
}

/** A class body starting after "[": [jsClass, nextIndex]. Perl mode: ']' and '-' are literal first. */
function translateClass(cs: string[], i: number): [string, number] {
  let out = "[";
  if (cs[i] === "^") {
    out += "^";
    i++;
  }
  let first = true;
  for (;;) {
    if (i >= cs.length) throw new BadRegexpError("missing closing ]");
    if (cs[i] === "]" && !first) return [out + "]", i + 1];
    first = false;
    if (cs[i] === "[" && cs[i + 1] === ":") {
      const rest = cs.slice(i + 2).join("");
      const close = rest.indexOf(":]");
      if (close >= 0) {
        let name = rest.slice(0, close);
        const neg = name.startsWith("^");
        if (neg) name = name.slice(1);
        if (!(name in POSIX)) throw new BadRegexpError(`invalid character class range: [:${name}:]`);
        if (neg) throw new BadRegexpError("negated POSIX classes are not supported by kb");
        out += POSIX[name];
        i += 2 + Array.from(rest.slice(0, close + 2)).length;
        continue;
      }
    }
    if (cs[i] === "\\" && cs[i + 1] !== undefined && cs[i + 1] in PERL) {
      out += PERL[cs[i + 1]];
      i += 2;
      continue;
    }
    if (cs[i] === "\\" && /^[DSWpPbBAzQ]$/.test(cs[i + 1] ?? "")) {
      throw new BadRegexpError(`unsupported escape in class: \\${cs[i + 1]}`);
    }
    let lo: number;
    [lo, i] = classChar(cs, i);
    let hi = lo;
    if (cs[i] === "-" && cs[i + 1] !== undefined && cs[i + 1] !== "]") {
      [hi, i] = classChar(cs, i + 1);
      if (hi < lo) throw new BadRegexpError("invalid character class range");
    }
    out += hi === lo ? cp(lo) : `${cp(lo)}-${cp(hi)}`;
  }
}

function classChar(cs: string[], i: number): [number, number] {
  if (i >= cs.length) throw new BadRegexpError("missing closing ]");
  if (cs[i] === "\\") return escapeChar(cs, i);
  return [cs[i].codePointAt(0)!, i + 1];
}

/** Compiles a Go regexp (the subset patternmatcher emits, plus escapes) to a JS RegExp with the same matches. */
export function compileGoRegexp(src: string): RegExp {
  const cs = Array.from(src);
  let out = "";
  let depth = 0;
  let i = 0;
  while (i < cs.length) {
    const c = cs[i];
    if (c === "\\") {
      const n = cs[i + 1];
      if (n !== undefined && n in PERL) {
        out += `[${PERL[n]}]`;
        i += 2;
      } else if (n !== undefined && "DSW".includes(n) && n.length === 1) {
        out += `[^${PERL[n.toLowerCase()]}]`;
        i += 2;
      } else if (n === "b" || n === "B") {
        out += `\\${n}`;
        i += 2;
      } else if (n === "A" || n === "z") {
        out += n === "A" ? "^" : "$";
        i += 2;
      } else {
        let r: number;
        [r, i] = escapeChar(cs, i);
        out += cp(r);
      }
    } else if (c === "[") {
      let cls: string;
      [cls, i] = translateClass(cs, i + 1);
      out += cls;
    } else if (c === "(") {
      if (cs[i + 1] === "?") throw new BadRegexpError("group flags are not supported by kb");
      depth++;
      out += "(?:";
      i++;
    } else if (c === ")") {
      if (--depth < 0) throw new BadRegexpError("unexpected )");
      out += ")";
      i++;
    } else if (c === ".") {
      out += "[^\\n]";
      i++;
    } else if ("^$|*+?".includes(c)) {
      out += c;
      i++;
    } else {
      out += /^[0-9A-Za-z_ ]$/.test(c) ? c : cp(c.codePointAt(0)!);
      i++;
    }
  }
  if (depth !== 0) throw new BadRegexpError("missing closing )");
  try {
    return new RegExp(out, "u");
  } catch (e) {
    throw new BadRegexpError(e instanceof Error ? e.message : String(e));
  }
}
