// Go `strconv.Quote`, so AST dumps are byte-identical to BuildKit's.

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const SIMPLE: Record<string, string> = {
  "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\",
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Go `strconv.Quote(s)`. @example goQuote('a"b') // "\"a\\\"b\"" */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const simple = SIMPLE[ch];
    if (simple) {
      out += simple;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp === 0x20 || (cp > 0x20 && cp < 0x7f)) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + hex(cp, 2);
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\ufffd";
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x10000) out += "\\u" + hex(cp, 4);
    else out += "\\U" + hex(cp, 8);
  }
  return out + '"';
}

/** Go `fmt.Sprintf("%q", []string)`. */
export function goQuoteList(list: readonly string[]): string {
  return "[" + list.map(goQuote).join(" ") + "]";
}
