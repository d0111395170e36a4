// Shell-word expansion: a port of BuildKit's shell/lex.go (quotes, escapes, $VAR and ${VAR…} modifiers).

import { KbError } from "../errors.ts";
import { isDigit, isLetter } from "./_unicode.ts";
import { NoWords, plainEnd, runeAt, SPECIAL_START, toGetter, wordTooLong, Words } from "./_lex-words.ts";
import { replacePattern, trimPrefix, trimSuffix } from "./_pattern.ts";

/** Variables seen by the lexer: a Map, a plain record, or any getter. */
export type ShellEnv = Map<string, string> | Record<string, string> | { get(name: string): string | undefined };

/** Options of BuildKit's `shell.Lex`. All default to false. */
export interface ShellLexOptions {
  /** Keep quote characters in the output. @default false */
  rawQuotes?: boolean;
  /** Keep escape tokens in the output. @default false */
  rawEscapes?: boolean;
  /** Leave unset variables as written (`$X`, `${X:-w}`). @default false */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters. @default false */
  skipProcessQuotes?: boolean;
  /**
   * Longest value one word may expand to, in UTF-16 code units, checked while expanding (an ARG doubling
   * chain or `${X//a/$X}` fails fast instead of growing without bound). @default MAX_WORD_DEFAULT (1 MiB)
   */
  maxWord?: number;
}

/** Default cap of one expanded word (kb build --max-word-size / KB_MAX_WORD_SIZE change it). */
export const MAX_WORD_DEFAULT = 1 << 20;

/** Result of `processWordWithMatches`: the word plus which referenced names were set or unset. */
export interface ProcessWordResult {
  result: string;
  words: string[];
  /** Referenced names that were set (even to ""). */
  matched: Set<string>;
  /** Referenced names that were not set. */
  unmatched: Set<string>;
}

/** A shell lexer bound to an escape token. */
export interface ShellLex {
  readonly escapeToken: string;
  /** The cap of one expanded word. */
  readonly maxWord: number;
  /** Expands one word: quotes removed, variables expanded, whitespace kept. @example lex.processWord("$A-x", {A: "1"}) // "1-x" */
  processWord(word: string, env: ShellEnv): string;
  /** Expands then splits on unquoted whitespace (empty words dropped). */
  processWords(word: string, env: ShellEnv): string[];
  /** Like processWord, also reporting matched/unmatched variable names (for UndefinedVar warnings). */
  processWordWithMatches(word: string, env: ShellEnv, opts?: { words?: boolean; maxWord?: number }): ProcessWordResult;
}

/** Creates BuildKit's `shell.Lex` for escape token `\` or `` ` ``. @example createShellLex("\\").processWord("'$x'", {}) */
export function createShellLex(escapeToken: string = "\\", opts: ShellLexOptions = {}): ShellLex {
  const maxWord = opts.maxWord ?? MAX_WORD_DEFAULT;
  const run = (word: string, env: ShellEnv, wantWords = true, cap = maxWord): ProcessWordResult => {
    const sw = new ShellWord(word, toGetter(env), escapeToken, opts, cap, wantWords);
    try {
      const [result, words] = sw.processStopOn(null, !!opts.rawEscapes);
      return { result, words, matched: sw.matched, unmatched: sw.unmatched };
    } catch (e) {
      if (e instanceof KbError) e.message = `Cannot expand "${word.length > 200 ? `${word.slice(0, 200)}…` : word}": ${e.message}`;
      throw e;
    }
  };
  return {
    escapeToken,
    maxWord,
    processWord: (w, env) => run(w, env, false).result,
    processWords: (w, env) => run(w, env).words,
    processWordWithMatches: (w, env, o) => run(w, env, o?.words ?? true, o?.maxWord ?? maxWord),
  };
}

function fail(msg: string): never {
  throw new KbError("DOCKERFILE_EXPANSION", msg, { hint: "check the ${…} syntax and the quotes of this word" });
}

const SPECIAL_PARAMS = "@*#?-$!0";


class ShellWord {
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  // The word is walked in place by code point (no array of runes: a 10 MB heredoc stays ~10 MB).
  constructor(
    private readonly src: string,
    private readonly getEnv: (name: string) => string | undefined,
    private readonly esc: string,
    private readonly opts: ShellLexOptions,
    private readonly maxWord: number,
    private readonly wantWords: boolean,
  ) {
    this.rawEscapes = !!opts.rawEscapes;
  }

  private peek(): string | null {
    return runeAt(this.src, this.pos);
  }
  private next(): string | null {
    const ch = this.peek();
    if (ch !== null) this.pos += ch.length;
    return ch;
  }

  /** Fails once a value being built passes the cap (called after every append, so growth stops at ≤ 2× cap). */
  private checkSize(s: string): string {
    if (s.length > this.maxWord) this.tooLong();
    return s;
  }

  private tooLong(): never {
    throw wordTooLong(this.maxWord);
  }

  private lookup(name: string): string | undefined {
    const v = this.getEnv(name);
    (v === undefined ? this.unmatched : this.matched).add(name);
    return v;
  }

  processStopOn(stop: string | null, rawEscapes: boolean): [string, string[]] {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = "";
      const words = this.wantWords ? new Words() : new NoWords();
      const quotes = !this.opts.skipProcessQuotes;
      for (let ch = this.peek(); ch !== null; ch = this.peek()) {
        if (stop !== null && ch === stop) {
          this.next();
          return [result, words.get()];
        }
        if (ch !== this.esc && !SPECIAL_START.has(ch)) {
          // A run of ordinary characters is appended in one slice (per-character appends cost ~80× the text).
          const end = Math.max(plainEnd(this.src, this.pos, this.esc, stop, quotes), this.pos + ch.length);
          const run = this.src.slice(this.pos, end);
          this.pos = end;
          words.addString(run);
          result = this.checkSize(result + run);
          continue;
        }
        if (ch === "$") {
          const tmp = this.processDollar();
          result = this.checkSize(result + tmp);
          words.addString(tmp);
        } else if (ch === "<") {
          const tmp = this.processPossibleHeredoc();
          result += tmp;
          words.addRaw(tmp);
        } else if (quotes && (ch === "'" || ch === '"')) {
          const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRaw(tmp);
        } else {
          let c = this.next()!;
          if (c === this.esc) {
            if (this.rawEscapes) {
              words.addRaw(c);
              result += c;
            }
            const n = this.next();
            if (n === null) break;
            c = n;
            words.addRaw(c);
          } else words.addChar(c);
          result += c;
        }
      }
      if (stop !== null) fail(`unexpected end of statement while looking for matching ${stop}`);
      return [result, words.get()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    const raw = !!this.opts.rawQuotes;
    let result = raw ? this.next()! : (this.next(), "");
    for (;;) {
      const ch = this.next();
      if (ch === null) fail("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return raw ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    const raw = !!this.opts.rawQuotes;
    let result = raw ? this.next()! : (this.next(), "");
    for (;;) {
      const p = this.peek();
      if (p === null) fail("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        this.next();
        return raw ? result + p : result;
      }
      if (p === "$") {
        result = this.checkSize(result + this.processDollar());
        continue;
      }
      let ch = this.next()!;
      if (ch === this.esc) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === null) continue;
        if (q === '"' || q === "$" || q === this.esc) ch = this.next()!;
        else if (this.rawEscapes) continue;
      }
      result += ch;
    }
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let space = "";
    for (let c = this.peek(); c === " " || c === "\t" || c === "\r"; c = this.peek()) space += this.next();
    return "<<" + space;
  }

  private processName(): string {
    let name = "";
    for (let ch = this.peek(); ch !== null; ch = this.peek()) {
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== null && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.includes(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== "_") break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnsetEnv) return "$" + name;
      return v ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === null) fail("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") fail("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let chs = ch ?? "";
    if (ch === "}") {
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnsetEnv) return "${" + name + "}";
      return v ?? "";
    }
    if (ch === "/") return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      chs += ch ?? "";
    } else if (ch === null || !"+-?#%".includes(ch)) {
      fail(`unsupported modifier (${chs}) in substitution`);
    }
    const trim = ch === "#" || ch === "%";
    if (nullIsUnset && trim) fail(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn("}", trim)[0];
    } catch (e) {
      if (this.peek() === null) fail("syntax error: missing '}'");
      throw e;
    }
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return "${" + name + chs + word + "}";
    const unset = value === undefined || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return unset ? word : value!;
      case "+":
        return unset ? "" : word;
      case "?":
        if (value === undefined) fail(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
        if (nullIsUnset && value === "") fail(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
        return value;
      case "#":
      case "%": {
        const greedy = word.length > 0 && word[0] === ch;
        const pat = greedy ? word.slice(1) : word;
        return this.patternOp(() => (ch === "%" ? trimSuffix(pat, value ?? "", greedy) : trimPrefix(pat, value ?? "", greedy)));
      }
      default:
        return fail(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.processStopOn("/", true)[0];
    } catch (e) {
      if (this.peek() === null) fail("syntax error: missing '/' in ${}");
      throw e;
    }
    try {
      replacement = this.processStopOn("}", true)[0];
    } catch (e) {
      if (this.peek() === null) fail("syntax error: missing '}'");
      throw e;
    }
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return "${" + name + "/" + pattern + "/" + replacement + "}";
    return this.patternOp(() => replacePattern(pattern, value ?? "", replacement, all, this.maxWord)) ?? this.tooLong();
  }

  private patternOp<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof KbError) fail(`invalid pattern in substitution: ${e.message}`);
      throw e;
    }
  }
}
