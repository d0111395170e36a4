// Helpers of the shell lexer: env lookup and BuildKit's word accumulator (wordsStruct).

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
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
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

