// The house rules of docs/ARCHITECTURE.md, held by the code: which folder of src/ may import which, no cycle
// between folders, nothing but src/main.ts imports cli/, and no test imports a private (`_`-prefixed) module.

import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SRC = join(ROOT, "src");
const IMPORT = /(?:^|[^\w.])(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : []);
}

/** The folder of src/ a file is in ("image", "engine"), or its own name for a top-level file ("errors.ts"). */
const folderOf = (file: string) => relative(SRC, file).split("/")[0]!;

/** Every relative import of every file: [from, to] as absolute paths. */
function imports(all: string[]): [string, string][] {
  return all.flatMap((f) => [...readFileSync(f, "utf8").matchAll(IMPORT)].map((m): [string, string] => [f, resolve(dirname(f), m[1]!)]));
}

/** What each folder must never import (docs/ARCHITECTURE.md, "The house in one picture"). */
const NEVER: Record<string, string[]> = {
  image: ["attest", "cli", "context", "dockerfile", "engine", "exec", "helper", "layer", "log", "output", "registry", "sign", "snapshot", "store"],
  helper: ["exec", "snapshot", "engine"],
  dockerfile: ["engine", "context", "store", "registry", "exec", "layer", "output"],
  layer: ["store", "registry", "engine", "exec"],
  snapshot: ["exec", "engine"],
  exec: ["engine", "store", "registry"],
  context: ["engine", "exec", "registry"],
  store: ["engine", "exec", "registry"],
  registry: ["engine", "store", "output", "exec"],
  output: ["engine", "registry"],
  attest: ["engine", "exec"],
  sign: ["engine", "exec"],
  log: ["attest", "cli", "context", "dockerfile", "engine", "exec", "helper", "image", "layer", "output", "registry", "sign", "snapshot", "store"],
};

describe("architecture", () => {
  const srcFiles = files(SRC).filter((f) => !f.endsWith(".test.ts"));
  const edges = imports(srcFiles).filter(([a, b]) => b.startsWith(SRC + "/") && folderOf(a) !== folderOf(b));

  test("no folder of src/ imports one it must never import", () => {
    const bad = edges.filter(([a, b]) => NEVER[folderOf(a)]?.includes(folderOf(b))).map(([a, b]) => `${relative(ROOT, a)} -> ${relative(ROOT, b)}`);
    expect(bad).toEqual([]);
  });

  test("nothing imports cli/ but src/main.ts", () => {
    const bad = edges.filter(([a, b]) => folderOf(b) === "cli" && relative(SRC, a) !== "main.ts").map(([a]) => relative(ROOT, a));
    expect(bad).toEqual([]);
  });

  test("no two folders of src/ import each other, directly or round a longer loop", () => {
    const graph = new Map<string, Set<string>>();
    for (const [a, b] of edges) graph.set(folderOf(a), (graph.get(folderOf(a)) ?? new Set()).add(folderOf(b)));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (n: string, path: string[]) => {
      if (state.get(n) === "done") return;
      if (state.get(n) === "open") return void cycles.push([...path.slice(path.indexOf(n)), n].join(" -> "));
      state.set(n, "open");
      for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
      state.set(n, "done");
    };
    for (const n of graph.keys()) visit(n, []);
    expect(cycles).toEqual([]);
  });

  test("no test imports a private (_-prefixed) module of src/", () => {
    const tests = [...files(join(ROOT, "test")), ...files(SRC).filter((f) => f.endsWith(".test.ts"))];
    const bad = imports(tests).filter(([, b]) => b.startsWith(SRC + "/") && /(^|\/)_[^/]*$/.test(b)).map(([a, b]) => `${relative(ROOT, a)} -> ${relative(ROOT, b)}`);
    expect(bad).toEqual([]);
  });
});
