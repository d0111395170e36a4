// Dockerfile conformance against BuildKit's corpora (parser dumps, negatives, line numbers, heredocs, shell lexer).

import fs from "node:fs";
import path from "node:path";
import { chompHeredocContent, createShellLex, dumpNodes, parseDockerfile, parseHeredoc, heredocsFromLine } from "../../src/dockerfile/index.ts";

/** One row of the conformance table. */
export interface ConformanceRow {
  suite: string;
  passed: number;
  total: number;
  failures: string[];
}

type Check = [name: string, fn: () => boolean | string];

function row(suite: string, checks: Check[]): ConformanceRow {
  const failures: string[] = [];
  for (const [name, fn] of checks) {
    let r: boolean | string;
    try {
      r = fn();
    } catch (e) {
      r = `threw ${(e as Error).message}`;
    }
    if (r !== true) failures.push(`${name}: ${r === false ? "mismatch" : r}`);
  }
  return { suite, passed: checks.length - failures.length, total: checks.length, failures };
}

function throws(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}

const read = (p: string) => fs.readFileSync(p, "utf8");

function parserRows(dir: string): ConformanceRow[] {
  const base = path.join(dir, "dockerfile-parser");
  const pos = fs.readdirSync(path.join(base, "testfiles")).sort();
  const positive = pos.map((d): Check => [d, () => {
    const got = dumpNodes(parseDockerfile(read(path.join(base, "testfiles", d, "Dockerfile"))).nodes);
    const want = read(path.join(base, "testfiles", d, "result"));
    return got === want || `got ${JSON.stringify(got.slice(0, 400))}`;
  }]);
  const neg = fs.readdirSync(path.join(base, "testfiles-negative")).sort();
  const negative = neg.map((d): Check => [d, () => throws(() => parseDockerfile(read(path.join(base, "testfiles-negative", d, "Dockerfile"))))]);
  const lines: Check[] = [["testfile-line", () => {
    const { nodes } = parseDockerfile(read(path.join(base, "testfile-line", "Dockerfile")));
    const got = JSON.stringify(nodes.map((n) => [n.startLine, n.endLine]));
    return got === "[[5,5],[11,12],[17,31]]" || got;
  }]];
  return [row("parser testfiles", positive), row("parser negative", negative), row("line numbers", lines)];
}

function heredocRow(dir: string): ConformanceRow {
  const h = JSON.parse(read(path.join(dir, "dockerfile-parser", "heredoc-cases.json")));
  const checks: Check[] = [];
  const ex = h.TestParseExtractsHeredoc;
  const { nodes } = parseDockerfile(ex.dockerfile);
  ex.expectedHeredocsByChild.forEach((want: unknown[] | null, i: number) => {
    checks.push([`extracts child ${i + 1}`, () => {
      const got = nodes[i + 1]?.heredocs ?? [];
      return JSON.stringify(got) === JSON.stringify(want ?? []) || `got ${JSON.stringify(got)}`;
    }]);
  });
  checks.push(["json heredoc", () => parseDockerfile(h.TestParseJSONHeredoc.dockerfile).nodes.slice(1, 4).every((n) => n.heredocs.length === 0)]);
  checks.push(["chomp", () => chompHeredocContent(h.TestHeredocChomp.input) === h.TestHeredocChomp.expected]);
  const help = h.TestParseHeredocHelpers;
  for (const w of help.valid) checks.push([`valid ${w}`, () => parseHeredoc(w)?.name === "EOF"]);
  for (const w of help.invalid) checks.push([`invalid ${w}`, () => throws(() => parseHeredoc(w))]);
  for (const w of help.notHeredocs) checks.push([`not ${JSON.stringify(w)}`, () => parseHeredoc(w) === null]);
  for (const c of h.TestHeredocsFromLine.cases) {
    checks.push([`line ${c.line}`, () => {
      // Like the Go test: every heredoc found must match the expected name at its index.
      const got = heredocsFromLine(c.line).map((d) => d.name);
      const want: string[] = c.heredocNames ?? [];
      return got.every((name, i) => name === want[i]) || JSON.stringify(got);
    }]);
  }
  return row("heredoc cases", checks);
}

function envFromSlice(list: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of list) {
    const i = e.indexOf("=");
    if (i < 0) m.set(e, "");
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function envVarRow(dir: string): ConformanceRow {
  const env = envFromSlice(["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]);
  const lex = createShellLex("\\");
  const checks: Check[] = [];
  let n = 0;
  for (const raw of read(path.join(dir, "shell-expansion", "envVarTest")).split("\n")) {
    n++;
    if (raw.startsWith("#")) continue;
    const line = raw.replace(/\r$/, "").trim();
    if (line === "") continue;
    const f = line.split("|").map((s) => s.trim());
    if (f.length !== 3) {
      checks.push([`line ${n}`, () => "malformed row"]);
      continue;
    }
    const [plat, input, want] = f as [string, string, string];
    if (plat === "W") continue;
    checks.push([`line ${n} ${input}`, () => {
      if (want === "error") return throws(() => lex.processWord(input, env));
      const got = lex.processWord(input, env);
      return got === want || `got ${JSON.stringify(got)}`;
    }]);
  }
  return row("envVarTest", checks);
}

function wordsRow(dir: string): ConformanceRow {
  const lex = createShellLex("\\");
  const checks: Check[] = [];
  const envs: string[] = [];
  let n = 0;
  for (const raw of read(path.join(dir, "shell-expansion", "wordsTest")).split("\n")) {
    n++;
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("#") || (line === "" && n > 1)) continue;
    if (line.startsWith("ENV ")) {
      envs.push(line.slice(3).replace(/^ +/, ""));
      continue;
    }
    const f = line.split("|");
    if (f.length !== 2) continue;
    const input = f[0]!.trim();
    const want = f[1]!.replace(/^ +/, "").split(",");
    const env = envFromSlice([...envs]);
    checks.push([`line ${n} ${input}`, () => {
      let got: string[];
      try {
        got = lex.processWords(input, env);
      } catch {
        got = ["error"];
      }
      return JSON.stringify(got) === JSON.stringify(want) || `got ${JSON.stringify(got)}`;
    }]);
  }
  return row("wordsTest", checks);
}

function casesRow(dir: string): ConformanceRow {
  const c = JSON.parse(read(path.join(dir, "shell-expansion", "cases.json")));
  const lex = createShellLex("\\");
  const checks: Check[] = [];
  for (const r of c.processWithMatches.cases) {
    checks.push([`matches ${r.input}`, () => {
      const env = new Map(Object.entries(r.env as Record<string, string>));
      if (r.error) return throws(() => lex.processWordWithMatches(r.input, env));
      const got = lex.processWordWithMatches(r.input, env);
      const res = { e: got.result, m: [...got.matched].sort(), u: [...got.unmatched].sort() };
      const want = { e: r.expected, m: [...r.matched].sort(), u: [...r.unmatched].sort() };
      return JSON.stringify(res) === JSON.stringify(want) || JSON.stringify(res);
    }]);
  }
  for (const r of c.mandatoryEnvVars.cases) {
    checks.push([`mandatory ${r.input}`, () => {
      const env = envFromSlice(r.env);
      if (!r.error) return lex.processWord(r.input, env) === r.expected;
      try {
        lex.processWord(r.input, env);
        return false;
      } catch (e) {
        return (e as Error).message.includes(r.errorContains);
      }
    }]);
  }
  for (const r of c.platformRelease.cases) {
    checks.push([`platform ${r.expected}`, () => lex.processWordWithMatches(c.platformRelease.input, new Map(Object.entries(r.env as Record<string, string>))).result === r.expected]);
  }
  return row("cases.json", checks);
}

/** Runs every Dockerfile conformance suite found under `dir` (the shared conformance folder). */
export async function dockerfileConformance(dir: string): Promise<ConformanceRow[]> {
  return [...parserRows(dir), heredocRow(dir), envVarRow(dir), wordsRow(dir), casesRow(dir)];
}
