// Heredoc detection (BuildKit parser.go: ParseHeredoc, heredocsFromLine, ChompHeredocContent).

import { KbError } from "../errors.ts";
import { HeredocBody } from "./heredoc-body.ts";
import { createShellLex } from "./lex.ts";

/** One `<<EOF` body attached to a RUN/COPY/ADD node. */
export interface Heredoc {
  /** Terminator word, quotes removed. */
  name: string;
  /** Raw body lines with their line endings, terminator excluded (never chomped here), in pieces. */
  content: HeredocBody;
  /** False when any part of the terminator word was quoted: the body is then not expanded. */
  expand: boolean;
  /** `<<-` form: leading tabs are to be removed by the consumer (`chompHeredocContent`). */
  chomp: boolean;
  /** Digits before `<<` (default 0). */
  fileDescriptor: number;
}

const RE_HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;
const NO_ENV = new Map<string, string>();
const wordLex = createShellLex("\\", { skipUnsetEnv: true });
const rawWordLex = createShellLex("\\", { skipUnsetEnv: true, rawQuotes: true });
const lineLex = createShellLex("\\", { skipUnsetEnv: true, rawQuotes: true, rawEscapes: true });

function countQuotes(s: string): number {
  let n = 0;
  for (const c of s) if (c === "'" || c === '"') n++;
  return n;
}

/** BuildKit `ParseHeredoc`: a heredoc from one already split word, or null when the word is not a heredoc. */
export function parseHeredoc(word: string): Heredoc | null {
  const m = RE_HEREDOC.exec(word);
  if (!m) return null;
  const rest = m[3]!;
  if (rest.length === 0) return null;
  let words: string[];
  let raw: string[];
  try {
    words = wordLex.processWords(rest, NO_ENV);
    if (words.length !== 1) return null;
    raw = rawWordLex.processWords(rest, NO_ENV);
  } catch (e) {
    throw new KbError("DOCKERFILE_SYNTAX", `Cannot parse heredoc "${word}": ${(e as Error).message}`, {
      hint: "close the quote around the heredoc delimiter, e.g. <<'EOF'",
    });
  }
  return {
    name: words[0]!,
    content: new HeredocBody(),
    expand: countQuotes(words[0]!) === countQuotes(raw[0] ?? ""),
    chomp: m[2] === "-",
    fileDescriptor: Number.parseInt(m[1] || "0", 10),
  };
}

/** BuildKit `heredocsFromLine`: every heredoc word of an instruction line (quoted `'<<EOF'` is not one). */
export function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = lineLex.processWords(line, NO_ENV);
  } catch {
    words = [];
  }
  const docs: Heredoc[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) docs.push(h);
  }
  return docs;
}

/** Removes leading tabs from every line (what `<<-` means). @example chompHeredocContent("\tA\n") // "A\n" */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, "");
}
