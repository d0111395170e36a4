// Helpers of the shell lexer: env lookup and BuildKit's word accumulator (wordsStruct).

import { KbError } from "../errors.ts";
import { isSpace } from "./_unicode.ts";
import type { ShellEnv } from "./lex.ts";

/** Turns any ShellEnv into a lookup function. */
export function toGetter(env: ShellEnv): (name: string) => string | undefined {
  if (env instanceof Map || typeof (env as { get?: unknown }).get === "function") {
    const g = env as { get(name: string): string | undefined };
    return (n) => g.get(n);
  }
  const rec = env as Record<string, string>;
  return (n) => (Object.prototype.hasOwnProperty.call(rec, n) ? rec[n] : undefined);
}

/** BuildKit wordsStruct: splits unquoted text on whitespace while keeping quoted text whole. */
export class Words {
  word = "";
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  /** Same as addChar for each character, but appends runs between spaces in one slice. */
  addString(s: string): void {
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      if (!isSpace(s[i]!)) continue;
      if (i > start) this.addRaw(s.slice(start, i));
      this.addChar(s[i]!);
      start = i + 1;
    }
    if (s.length > start) this.addRaw(start === 0 ? s : s.slice(start));
  }
  get(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}


/** A Words that keeps nothing, for callers that only want the expanded text (heredoc bodies, single values). */
export class NoWords extends Words {
  override addChar(): void {}
  override addRaw(): void {}
  override addString(): void {}
  override get(): string[] {
    return [];
  }
}

/** Characters that end a plain run in processStopOn (besides the escape token and the stop rune). */
export const SPECIAL_START = new Set(["$", "<", "'", '"']);

/** The code point at index `i` of `s` as a string (a surrogate pair whole), or null past the end. */
export function runeAt(s: string, i: number): string | null {
  if (i >= s.length) return null;
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return s.slice(i, i + 2);
  }
  return s[i]!;
}

/** End of the plain run of `s` starting at `from`: up to the next `$`, `<`, quote (when processed), escape or stop. */
export function plainEnd(s: string, from: number, esc: string, stop: string | null, quotes: boolean): number {
  let i = from;
  for (; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === esc || ch === stop || ch === "$" || ch === "<" || (quotes && (ch === "'" || ch === '"'))) break;
  }
  return i;
}

/** The error of a word that expands past the cap (ShellLexOptions.maxWord). */
export function wordTooLong(maxWord: number): KbError {
  return new KbError("DOCKERFILE_EXPANSION", `the expanded value is longer than ${maxWord} characters`, {
    hint: "a variable expands to itself repeatedly (an ARG doubling chain or ${X//a/$X}?); raise the cap with --max-word-size SIZE (KB_MAX_WORD_SIZE) if this is intended",
  });
}
