// Conformance: moby/patternmatcher tables and fsutil walk cases (from ../shared/conformance/dockerignore).

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { cleanPath } from "../../src/context/index.ts";
import { type IgnoreMatcher, type MatchInfo, NO_MATCH_INFO, compileIgnore } from "../../src/context/dockerignore.ts";
import { walkContext } from "../../src/context/walk.ts";

/** One line of a conformance table. */
export interface ConformanceRow {
  suite: string;
  passed: number;
  total: number;
  failures: string[];
  skipped?: { count: number; reason: string }[];
}

interface MatchCase {
  suite: string;
  api: string;
  patterns: string[];
  path: string;
  expected: boolean;
  error?: boolean;
  platform: string;
}

interface TreeNode {
  path: string;
  type: "dir" | "file";
}
interface WalkCase {
  test: string;
  tree: TreeNode[];
  includePatterns?: string[];
  excludePatterns?: string[];
  expectedWalk: string[] | null;
  expectedError?: string;
  setup?: string;
  layers?: { excludePatterns?: string[]; includePatterns?: string[] }[];
  open?: Record<string, "ok" | "ENOENT">;
}

function goDir(p: string): string {
  return cleanPath(p.slice(0, p.lastIndexOf("/") + 1));
}

/** Runs one matcher case through every entry point the Go test uses; returns "true"/"false"/"error"/"mixed". */
function runMatchCase(c: MatchCase): string {
  let m: IgnoreMatcher;
  try {
    m = compileIgnore(c.patterns);
  } catch {
    return "error";
  }
  try {
    if (c.api === "Matches") {
      const file = cleanPath(c.path);
      return String(file === "." ? false : m.matches(file));
    }
    const results = new Set<boolean>([m.matches(c.path)]);
    if (c.api !== "MatchesOrParentMatches") {
      const parent = goDir(c.path);
      let info: MatchInfo = NO_MATCH_INFO;
      if (parent !== ".") {
        const dirs = parent.split("/");
        for (let i = 1; i <= dirs.length; i++) info = m.matchesWithParent(dirs.slice(0, i).join("/"), info).info;
      }
      results.add(m.matchesWithParent(c.path, info).matched);
      results.add(m.matchesWithParent(c.path, NO_MATCH_INFO).matched);
    }
    return results.size === 1 ? String([...results][0]) : "mixed";
  } catch {
    return "error";
  }
}

function buildTree(dir: string, tree: { path: string; type: string }[]): void {
  for (const n of tree) {
    const p = path.join(dir, n.path);
    if (n.type === "dir") mkdirSync(p, { recursive: true, mode: 0o700 });
    else {
      mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
      writeFileSync(p, "", { mode: 0o644 });
    }
  }
}

async function walkOnce(dir: string, ex?: string[], inc?: string[]): Promise<string[]> {
  const out: string[] = [];
  const include = inc ? compileIgnore(inc) : undefined;
  for await (const e of walkContext(dir, ex ? compileIgnore(ex) : null, { include })) out.push(`${e.type} ${e.path}`);
  return out;
}

function restore(dir: string, c: WalkCase): void {
  if (c.setup?.includes("chmod 0000 foo/bar")) chmodSync(path.join(dir, "foo/bar"), 0o700);
}

async function runWalkCase(c: WalkCase, tmp: string): Promise<string | null> {
  const dir = path.join(tmp, "t");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  buildTree(dir, c.tree);
  const problems: string[] = [];
  if (c.setup?.includes("chmod 0000 foo/bar")) chmodSync(path.join(dir, "foo/bar"), 0);
  if (c.expectedError) {
    const err = await walkOnce(dir, c.excludePatterns, c.includePatterns).then(() => null, (e: Error) => e);
    chmodSync(path.join(dir, "foo/bar"), 0o700);
    return err?.message.includes("EACCES") ? null : `expected "${c.expectedError}", got ${err ? err.message : "no error"}`;
  }
  if (c.expectedWalk) {
    let got: string[];
    if (c.layers) {
      got = [];
      let cur = dir;
      for (const [i, layer] of c.layers.entries()) {
        got = await walkOnce(cur, layer.excludePatterns, layer.includePatterns);
        // the next (outer) filter sees only what this one let through
        cur = path.join(tmp, `layer${i}`);
        rmSync(cur, { recursive: true, force: true });
        mkdirSync(cur);
        buildTree(cur, got.map((g) => ({ type: g.split(" ")[0], path: g.slice(g.indexOf(" ") + 1) })));
      }
    } else got = await walkOnce(dir, c.excludePatterns, c.includePatterns).finally(() => restore(dir, c));
    if (JSON.stringify(got) !== JSON.stringify(c.expectedWalk)) {
      problems.push(`walk got ${JSON.stringify(got)} want ${JSON.stringify(c.expectedWalk)}`);
    }
  }
  for (const [p, want] of Object.entries(c.open ?? {})) {
    const ex = c.excludePatterns ? compileIgnore(c.excludePatterns).matches(p) : false;
    const inc = c.includePatterns ? compileIgnore(c.includePatterns).matches(p) : true;
    const got = !ex && inc ? "ok" : "ENOENT";
    if (got !== want) problems.push(`open ${p} got ${got} want ${want}`);
  }
  return problems.length ? problems.join("; ") : null;
}

/** Runs both suites against `dir` (the dockerignore folder of the conformance data). */
export async function dockerignoreConformance(dir: string): Promise<ConformanceRow[]> {
  const cases = JSON.parse(readFileSync(path.join(dir, "cases.json"), "utf8")).cases as MatchCase[];
  const match: ConformanceRow = { suite: "dockerignore match/compile", passed: 0, total: 0, failures: [] };
  for (const c of cases) {
    match.total++;
    const want = c.error ? "error" : String(c.expected);
    const got = runMatchCase(c);
    if (got === want) match.passed++;
    else match.failures.push(`${c.suite} ${JSON.stringify(c.patterns)} ${JSON.stringify(c.path)}: got ${got}, want ${want}`);
  }
  const walkCases = JSON.parse(readFileSync(path.join(dir, "walk-cases.json"), "utf8")).cases as WalkCase[];
  const walk: ConformanceRow = { suite: "dockerignore walk", passed: 0, total: 0, failures: [], skipped: [] };
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  let skippedPerm = 0;
  const tmp = mkdtempSync(path.join(tmpdir(), "kb-walk-conf-"));
  try {
    for (const c of walkCases) {
      if (c.setup?.includes("chmod 0000") && isRoot) {
        skippedPerm++;
        continue;
      }
      walk.total++;
      const problem = await runWalkCase(c, tmp);
      if (problem === null) walk.passed++;
      else walk.failures.push(`${c.test} ex=${JSON.stringify(c.excludePatterns)} in=${JSON.stringify(c.includePatterns)}: ${problem}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (skippedPerm) walk.skipped!.push({ count: skippedPerm, reason: "needs chmod 0000 to deny access, which root ignores" });
  return [match, walk];
}
