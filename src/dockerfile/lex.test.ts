import { expect, test } from "bun:test";
import { isKbError } from "../errors.ts";
import { convertShellPatternToRegex, createShellLex, reversePattern } from "./index.ts";

test("`createShellLex()` honours the backtick escape token", () => {
  const lex = createShellLex("`");
  expect(lex.processWord("a`$B\\c", { B: "x" })).toBe("a$B\\c");
  expect(lex.processWord('"`"$B"', { B: "x" })).toBe('"x');
});

test("`processWord()` accepts a Map, a record or a getter and fails with DOCKERFILE_EXPANSION", () => {
  const lex = createShellLex();
  expect(lex.processWord("${A:-d}", new Map([["A", "m"]]))).toBe("m");
  expect(lex.processWord("${A:-d}", { A: "" })).toBe("d");
  expect(lex.processWord("$A", { get: (n: string) => (n === "A" ? "g" : undefined) })).toBe("g");
  expect(lex.processWord("$toString", {})).toBe("");
  try {
    lex.processWord("${A:?gone}", {});
    throw new Error("no error");
  } catch (e) {
    expect(isKbError(e, "DOCKERFILE_EXPANSION")).toBe(true);
    expect((e as Error).message).toContain("A: gone");
  }
});

test("`processWords()` splits unquoted expansions only", () => {
  expect(createShellLex().processWords('a$X "b $X" c\\ d', { X: "1 2" })).toEqual(["a1", "2", "b 1 2", "c d"]);
});

test("`processWord()` keeps heredoc markers and skips unset variables when asked", () => {
  const lex = createShellLex("\\", { skipUnsetEnv: true });
  expect(lex.processWord("<<  EOF $X ${Y:-z} ${Z/a/b}", {})).toBe("<<  EOF $X ${Y:-z} ${Z/a/b}");
});

test("pattern helpers match BuildKit's convertShellPatternToRegex and reversePattern tables", () => {
  expect(convertShellPatternToRegex("(()[]{\\}^$.\\*\\?|\\\\", true, true).source).toBe("^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\");
  expect(convertShellPatternToRegex("*", false, true).source).toBe("^.*?");
  for (const bad of ["\\", "\\x", "\\\\\\"]) expect(() => convertShellPatternToRegex(bad, true, true)).toThrow();
  expect(reversePattern("a\\*c")).toBe("c\\*a");
  expect(reversePattern("👽\\🚀🖖")).toBe("🖖\\🚀👽");
  expect(createShellLex().processWord("${A//?/$$x}", { A: "ab" })).toBe("xx"); // $$ is the unset special parameter
});
