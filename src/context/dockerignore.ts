// .dockerignore: reading the file (ignorefile.ReadAll) and compiling it into a matcher (moby/patternmatcher).

import { existsSync } from "node:fs";
import * as path from "node:path";
import { KbError } from "../errors.ts";
import { cleanPath, goMatch } from "./_go-path.ts";
import {
  type MatchInfo,
  NO_MATCH_INFO,
  type Pattern,
  goTrimSpace,
  matchesOrParentMatches,
  matchesUsingParentResults,
  newPatterns,
} from "./_pattern-matcher.ts";

export type { MatchInfo } from "./_pattern-matcher.ts";
export { NO_MATCH_INFO } from "./_pattern-matcher.ts";

/** Where the patterns came from, for error messages: the file and the 1-based line of each pattern. */
interface PatternOrigin {
  file: string;
  lines: number[];
}
const origins = new WeakMap<readonly string[], PatternOrigin>();

/**
 * Reads .dockerignore text like BuildKit: BOM stripped, `#` in column 1 is a comment, lines trimmed,
 * `!` exceptions, each pattern `filepath.Clean`ed with a leading `/` removed.
 * @example parseDockerignore("# c\n/node_modules/\n!keep") // ["node_modules", "!keep"]
 */
export function parseDockerignore(text: string, file = ".dockerignore"): string[] {
  const out: string[] = [];
  const lines: number[] = [];
  const all = text.split("\n");
  if (all.length > 0 && all[all.length - 1] === "") all.pop();
  all.forEach((rawLine, i) => {
    let line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (i === 0 && line.startsWith("\ufeff")) line = line.slice(1);
    if (line.startsWith("#")) return;
    let pattern = goTrimSpace(line);
    if (pattern === "") return;
    const invert = pattern[0] === "!";
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern[0] === "/") pattern = pattern.slice(1);
    }
    out.push(invert ? "!" + pattern : pattern);
    lines.push(i + 1);
  });
  origins.set(out, { file, lines });
  return out;
}

/** A compiled .dockerignore (or include list): answers "is this context path excluded?". */
export interface IgnoreMatcher {
  /** The patterns as given (after parsing), `!` included. */
  readonly patterns: readonly string[];
  /** True when there is at least one `!` exception. */
  readonly hasExceptions: boolean;
  /** patternmatcher MatchesOrParentMatches: true when `relPath` (or a parent dir) is matched. */
  matches(relPath: string): boolean;
  /** MatchesUsingParentResults: O(patterns) per entry during a walk; pass the parent's `info`. */
  matchesWithParent(relPath: string, parent: MatchInfo): { matched: boolean; info: MatchInfo };
  /** True when some later `!` pattern could match a path strictly below `dirRelPath` (do not prune it). */
  canReincludeUnder(dirRelPath: string): boolean;
  /** True when some non-`!` pattern could match a path strictly below `dirRelPath` (for include lists). */
  canMatchUnder(dirRelPath: string): boolean;
}

function syntaxError(pattern: string, idx: number, origin: PatternOrigin | undefined, why: string): KbError {
  const line = origin?.lines[idx];
  const file = origin?.file ?? ".dockerignore";
  return new KbError("DOCKERIGNORE_SYNTAX", `Cannot compile pattern "${pattern}" in "${file}": ${why}`, {
    hint: 'Patterns use Go filepath.Match syntax: escape a literal "[" as "[[]" or "\\[", and close every "[...]" class',
    location: line === undefined ? undefined : { file, start: { line, col: 1 }, end: { line, col: pattern.length + 1 } },
  });
}

/**
 * Compiles patterns (from parseDockerignore or a plain list) into an IgnoreMatcher. Every pattern is
 * compiled eagerly, so a bad one fails here with its line, not in the middle of a walk.
 * @example compileIgnore(["*.md", "!README.md"]).matches("docs/a.md") // false: "*.md" only matches top-level names
 */
export function compileIgnore(patterns: readonly string[]): IgnoreMatcher {
  const origin = origins.get(patterns);
  let compiled: Pattern[];
  try {
    compiled = newPatterns(patterns);
  } catch (e) {
    const idx = (e as { index?: number }).index ?? 0;
    throw syntaxError(patterns[idx] ?? "", idx, origin, (e as Error).message);
  }
  for (const p of compiled) {
    p.compile();
    if (p.compileError) throw syntaxError(patterns[p.index], p.index, origin, p.compileError.message);
  }
  const exceptions = compiled.filter((p) => p.exclusion);
  const inclusions = compiled.filter((p) => !p.exclusion);
  return {
    patterns: [...patterns],
    hasExceptions: exceptions.length > 0,
    matches: (rel) => matchesOrParentMatches(compiled, rel),
    matchesWithParent: (rel, parent) => matchesUsingParentResults(compiled, rel, parent ?? NO_MATCH_INFO),
    canReincludeUnder: (dir) => exceptions.some((p) => couldMatchBelow(p.cleaned, dir)),
    canMatchUnder: (dir) => inclusions.some((p) => couldMatchBelow(p.cleaned, dir)),
  };
}

/**
 * Conservative test: can `pattern` match some path strictly below `dir`? Without `**` a pattern matches
 * only paths with as many segments as it has, so compare segment by segment; classes and escapes may
 * match '/', so they answer yes.
 */
function couldMatchBelow(pattern: string, dir: string): boolean {
  if (pattern.includes("[") || pattern.includes("\\")) return true;
  const segs = pattern.split("/");
  const d = dir === "." || dir === "" ? [] : dir.split("/");
  const star2 = segs.findIndex((s) => s.includes("**"));
  if (star2 < 0 && segs.length <= d.length) return false;
  const n = star2 < 0 ? d.length : Math.min(star2, d.length);
  for (let i = 0; i < n; i++) if (!goMatch(segs[i], d[i])) return false;
  return true;
}

/**
 * Finds the ignore file BuildKit would use: `<Dockerfile>.dockerignore` next to the Dockerfile wins over
 * `<context>/.dockerignore`. Returns its path, or undefined when there is none.
 */
export function findDockerignore(contextDir: string, dockerfilePath: string): string | undefined {
  const specific = `${dockerfilePath}.dockerignore`;
  if (existsSync(specific)) return specific;
  const general = path.join(contextDir, ".dockerignore");
  return existsSync(general) ? general : undefined;
}
