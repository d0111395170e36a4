import { describe, expect, test } from "bun:test";
import { isKbError } from "../errors.ts";
import { compileIgnore, parseDockerignore } from "./dockerignore.ts";

describe("parseDockerignore()", () => {
  test("`parseDockerignore()` drops comments and blanks, trims, cleans and strips a leading slash", () => {
    const text = "\ufeff# comment\n\n  /node_modules/  \n!  ./keep//me/../me\r\n  # indented is a pattern\n*.log\n";
    expect(parseDockerignore(text)).toEqual(["node_modules", "!keep/me", "# indented is a pattern", "*.log"]);
  });
  test("`parseDockerignore()` keeps a lone ! so compiling reports it with its line", () => {
    const p = parseDockerignore("a\n\n!\n", "ctx/.dockerignore");
    try {
      compileIgnore(p);
      throw new Error("expected a failure");
    } catch (e) {
      expect(isKbError(e, "DOCKERIGNORE_SYNTAX")).toBe(true);
      expect((e as { location: { file: string; start: { line: number } } }).location.start.line).toBe(3);
      expect((e as Error).message).toContain('"ctx/.dockerignore"');
    }
  });
});

describe("compileIgnore()", () => {
  test("`compileIgnore()` makes the last matching line win and applies parent dirs", () => {
    const m = compileIgnore(parseDockerignore("*.md\n!README*.md\nREADME-secret.md\nnode_modules\n"));
    expect(m.matches("a.md")).toBe(true);
    expect(m.matches("README.md")).toBe(false);
    expect(m.matches("README-secret.md")).toBe(true);
    expect(m.matches("node_modules/x/y.js")).toBe(true);
    expect(m.matches("src/a.md")).toBe(false);
  });
  test("`compileIgnore()` rejects malformed globs as DOCKERIGNORE_SYNTAX", () => {
    for (const bad of ["[", "a[", "[a-b-c]", "\\", "[]a]", "[Local-Only]"]) {
      expect(() => compileIgnore([bad])).toThrow();
      try {
        compileIgnore([bad]);
      } catch (e) {
        expect(isKbError(e, "DOCKERIGNORE_SYNTAX")).toBe(true);
      }
    }
  });
  test("`canReincludeUnder()` is true only where an exception could reach", () => {
    const m = compileIgnore(["*", "!keep/deep/file", "!**/x.txt"]);
    expect(m.canReincludeUnder("keep")).toBe(true);
    expect(m.canReincludeUnder("other")).toBe(true); // "**/x.txt" can match anywhere
    const lit = compileIgnore(["*", "!keep/deep/file"]);
    expect(lit.canReincludeUnder("keep")).toBe(true);
    expect(lit.canReincludeUnder("keep/deep")).toBe(true);
    expect(lit.canReincludeUnder("keep/deep/file")).toBe(false);
    expect(lit.canReincludeUnder("other")).toBe(false);
    expect(compileIgnore(["node_modules"]).canReincludeUnder("node_modules")).toBe(false);
  });
});

/** A small deterministic PRNG (mulberry32) so the fuzz run is reproducible. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("`compileIgnore()` on random patterns never crashes or hangs: it matches or throws KbError", () => {
  const alphabet = ["*", "**", "?", "[", "]", "^", "!", "-", "\\", "/", ".", "..", "a", "b", "z", "é", "☺", " ", "#", "{", "(", "$", ":"];
  const next = rng(0x5eed);
  const paths = ["a", "a/b", "ab/c/d", "é/☺", ".hidden", "z-a"];
  let compiled = 0;
  let rejected = 0;
  for (let n = 0; n < 3000; n++) {
    const len = 1 + Math.floor(next() * 10);
    let p = "";
    for (let i = 0; i < len; i++) p += alphabet[Math.floor(next() * alphabet.length)];
    try {
      const m = compileIgnore(parseDockerignore(p));
      for (const x of paths) {
        m.matches(x);
        m.canReincludeUnder(x);
      }
      compiled++;
    } catch (e) {
      if (!isKbError(e, "DOCKERIGNORE_SYNTAX")) throw new Error(`pattern ${JSON.stringify(p)} threw ${e}`);
      rejected++;
    }
  }
  expect(compiled).toBeGreaterThan(0);
  expect(rejected).toBeGreaterThan(0);
});
