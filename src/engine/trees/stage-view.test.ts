import { describe, expect, test } from "bun:test";
import { sourcePrefix } from "./stage-view.ts";

describe("sourcePrefix()", () => {
  test("is the literal part of a source up to its first wildcard segment", () => {
    expect(sourcePrefix("/out/bin/app", false)).toBe("out/bin/app");
    expect(sourcePrefix("out/share/", false)).toBe("out/share");
    expect(sourcePrefix("/out/*.so", false)).toBe("out");
    expect(sourcePrefix("/usr/lib/x86_64*/libc.so.6", false)).toBe("usr/lib");
    expect(sourcePrefix("/out/a\\*b", false)).toBe("out/a\\*b"); // an escaped "*" is literal
    expect(sourcePrefix("/out/../etc/passwd", false)).toBe("etc/passwd");
  });
  test("is empty (the whole stage: no view) for the root or a wildcard at the top", () => {
    expect(sourcePrefix("/", false)).toBe("");
    expect(sourcePrefix(".", false)).toBe("");
    expect(sourcePrefix("/*", false)).toBe("");
  });
  test("drops the --parents pivot", () => {
    expect(sourcePrefix("/src/./pkg/a.go", true)).toBe("src/pkg/a.go");
    expect(sourcePrefix("/src/./pkg/a.go", false)).toBe("src/pkg/a.go");
  });
});
