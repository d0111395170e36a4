// A faithful port of moby/patternmatcher (New, MatchesOrParentMatches, MatchesUsingParentResults).

import { BadPatternError, cleanPath, goMatch } from "./_go-path.ts";
import { compileGoRegexp } from "./_go-regexp.ts";

type MatchType = "unknown" | "exact" | "prefix" | "suffix" | "regexp";

/** Per-pattern match results of a parent directory, threaded down a walk (patternmatcher.MatchInfo). */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

/** The empty MatchInfo: no knowledge about the parent (falls back to checking every ancestor). */
export const NO_MATCH_INFO: MatchInfo = { parentMatched: [] };

const SHOULD_ESCAPE = ".+()|{}$";

/** One compiled line. `cleaned` is the pattern without its `!`. */
export class Pattern {
  matchType: MatchType = "unknown";
  regexp?: RegExp;
  compileError?: Error;
  constructor(
    readonly cleaned: string,
    readonly exclusion: boolean,
    readonly index: number,
  ) {}

  /** Builds the Go regexp text exactly as patternmatcher's compile() does, then translates it. */
  compile(): void {
    let reg = "^";
    const cs = Array.from(this.cleaned);
    let type: MatchType = "exact";
    for (let i = 0, k = 0; k < cs.length; i++) {
      const ch = cs[k++];
      if (ch === "*") {
        if (cs[k] === "*") {
          k++;
          if (cs[k] === "/") k++;
          if (k >= cs.length) {
            if (type === "exact") type = "prefix";
            else {
              reg += ".*";
              type = "regexp";
            }
          } else {
            reg += "(.*/)?";
            type = "regexp";
          }
          if (i === 0) type = "suffix";
        } else {
          reg += "[^/]*";
          type = "regexp";
        }
      } else if (ch === "?") {
        reg += "[^/]";
        type = "regexp";
      } else if (SHOULD_ESCAPE.includes(ch)) {
        reg += "\\" + ch;
      } else if (ch === "\\") {
        if (k < cs.length) {
          reg += "\\" + cs[k++];
          type = "regexp";
        } else reg += "\\";
      } else if (ch === "[" || ch === "]") {
        reg += ch;
        type = "regexp";
      } else reg += ch;
    }
    if (type === "regexp") {
      try {
        this.regexp = compileGoRegexp(reg + "$");
      } catch (e) {
        this.compileError = e as Error;
      }
    }
    this.matchType = type;
  }

  /** Matches one path (no parent logic). Throws BadPatternError when the regexp does not compile. */
  match(path: string): boolean {
    if (this.matchType === "unknown") this.compile();
    if (this.compileError) throw new BadPatternError(this.cleaned);
    const p = this.cleaned;
    switch (this.matchType) {
      case "exact":
        return path === p;
      case "prefix":
        return path.startsWith(p.slice(0, -2));
      case "suffix": {
        const suffix = p.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix[0] === "/" && path === suffix.slice(1);
      }
      default:
        return this.regexp!.test(path);
    }
  }

  /** Matches the path or any of its ancestors ("a", "a/b", ...), swallowing errors on ancestors as Go does. */
  matchSelfOrParent(path: string): boolean {
    if (this.match(path)) return true;
    const parent = goDir(path);
    if (parent === ".") return false;
    const dirs = parent.split("/");
    for (let i = 1; i <= dirs.length; i++) {
      try {
        if (this.match(dirs.slice(0, i).join("/"))) return true;
      } catch {
        // Go ignores the error here
      }
    }
    return false;
  }
}

/** Go filepath.Dir. */
export function goDir(p: string): string {
  const i = p.lastIndexOf("/");
  return cleanPath(p.slice(0, i + 1));
}

const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Go strings.TrimSpace (Unicode White_Space, not U+FEFF). */
export function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE, "");
}

/**
 * patternmatcher.New: trims, cleans, splits off `!`, and validates each pattern with filepath.Match.
 * Throws `Error` with Go's message for a lone "!" and BadPatternError for malformed globs;
 * The thrown error carries `index` (the failing pattern) so callers can attach a line number.
 */
export function newPatterns(patterns: readonly string[]): Pattern[] {
  const out: Pattern[] = [];
  patterns.forEach((raw, index) => {
    let p = goTrimSpace(raw);
    if (p === "") return;
    p = cleanPath(p);
    let exclusion = false;
    if (p[0] === "!") {
      if (p.length === 1) throw Object.assign(new Error('illegal exclusion pattern: "!"'), { index });
      exclusion = true;
      p = p.slice(1);
    }
    try {
      goMatch(p, ".");
    } catch (e) {
      throw Object.assign(e as Error, { index });
    }
    out.push(new Pattern(p, exclusion, index));
  });
  return out;
}

/** MatchesOrParentMatches: in order, last applicable pattern wins; a match on an ancestor counts. */
export function matchesOrParentMatches(patterns: readonly Pattern[], file: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.exclusion !== matched) continue;
    if (p.matchSelfOrParent(file)) matched = !p.exclusion;
  }
  return matched;
}

/** MatchesUsingParentResults: like the above, but reuses the parent dir's per-pattern results. */
export function matchesUsingParentResults(
  patterns: readonly Pattern[],
  file: string,
  parent: MatchInfo,
): { matched: boolean; info: MatchInfo } {
  const pm = parent.parentMatched;
  if (pm.length !== 0 && pm.length !== patterns.length) throw new Error("wrong number of values in parentMatched");
  let matched = false;
  const now: boolean[] = new Array(patterns.length).fill(false);
  patterns.forEach((p, i) => {
    let match = pm.length !== 0 ? pm[i] : false;
    if (!match) {
      if (p.exclusion !== matched) return;
      match = pm.length === 0 ? p.matchSelfOrParent(file) : p.match(file);
    }
    now[i] = match;
    if (match) matched = !p.exclusion;
  });
  return { matched, info: { parentMatched: now } };
}
