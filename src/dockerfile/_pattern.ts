// Shell glob patterns of ${v#p} ${v%p} ${v/p/r} as regular expressions (BuildKit shell/lex.go helpers).

import { KbError } from "../errors.ts";

/** A compiled pattern: `source` is the Go regexp text (what BuildKit prints), `re` the equivalent JS RegExp. */
export interface ShellPattern {
  source: string;
  re: RegExp;
}

const REGEX_META = "[]{}.+()|^$";

/**
 * BuildKit `convertShellPatternToRegex`: `*` any string (greedy or shortest), `?` one char, `\` escapes only
 * `* ? \` (and is dropped before `}` or `/`). Bracket classes are not supported.
 */
export function convertShellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean): ShellPattern {
  const runes = Array.from(pattern);
  let go = anchored ? "^" : "";
  let js = go;
  for (let i = 0; i < runes.length; i++) {
    let tok = runes[i]!;
    if (tok === "*") {
      go += greedy ? ".*" : ".*?";
      js += greedy ? "[^\\n]*" : "[^\\n]*?";
      continue;
    }
    if (tok === "?") {
      go += ".";
      js += "[^\\n]";
      continue;
    }
    if (tok === "\\") {
      const peek = runes[i + 1];
      if (peek === "}" || peek === "/") continue;
      i++;
      tok = runes[i] ?? "";
      if (tok !== "*" && tok !== "?" && tok !== "\\") {
        throw new KbError("DOCKERFILE_EXPANSION", `Cannot use pattern "${pattern}": invalid escape "\\${tok}"`, {
          hint: "in ${var#pattern} only *, ? and \\ can be escaped",
        });
      }
      go += "\\" + tok;
      js += "\\" + tok;
      continue;
    }
    if (REGEX_META.includes(tok)) {
      go += "\\" + tok;
      js += "\\" + tok;
      continue;
    }
    go += tok;
    js += tok;
  }
  return { source: go, re: new RegExp(js, "u") };
}

/** BuildKit `reversePattern`: reverses runes but keeps each `\x` escape pair in order. */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out: string[] = new Array(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i]!;
    const o = last - i;
    if (tok === "\\" && i !== last) {
      out[o - 1] = tok;
      out[o] = runes[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join("");
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join("");
}

/** `${value#pattern}` / `${value##pattern}`. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = convertShellPatternToRegex(pattern, greedy, true).re.exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** `${value%pattern}` / `${value%%pattern}` (reverse both, then trim a prefix, like BuildKit). */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** Go `Regexp.Expand` of a template for a pattern without groups: `$$` is `$`, `$name`/`${name}` are empty. */
function goExpandTemplate(template: string): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch !== "$") {
      out += ch;
      continue;
    }
    const next = template[i + 1];
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    if (next === "{") {
      const close = template.indexOf("}", i + 2);
      const name = close < 0 ? "" : template.slice(i + 2, close);
      if (name !== "" && /^\w+$/.test(name)) {
        i = close;
        continue;
      }
      out += "$";
      continue;
    }
    const m = /^\w+/.exec(template.slice(i + 1));
    if (m) {
      i += m[0].length;
      continue;
    }
    out += "$";
  }
  return out;
}

/**
 * `${value/pattern/replacement}` (first) or `${value//pattern/replacement}` (all); unanchored and greedy.
 * Returns null as soon as the result would pass `maxLen` (counted while replacing, before it is built).
 */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean, maxLen = Infinity): string | null {
  const { re } = convertShellPatternToRegex(pattern, true, false);
  const rep = goExpandTemplate(replacement);
  if (!all) {
    const m = re.exec(value);
    if (m && value.length - m[0].length + rep.length > maxLen) return null;
    return m ? value.slice(0, m.index) + rep + value.slice(m.index + m[0].length) : value;
  }
  const g = new RegExp(re.source, "gu");
  let len = value.length;
  let over = false;
  const out = value.replace(g, (m: string) => {
    if (over) return "";
    len += rep.length - m.length;
    if (len > maxLen) over = true;
    return over ? "" : rep;
  });
  return over ? null : out;
}
