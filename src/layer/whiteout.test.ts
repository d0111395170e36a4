import { describe, expect, test } from "bun:test";
import { isOpaqueWhiteout, isWhiteout, opaqueWhiteoutPathFor, parseWhiteout, whiteoutPathFor } from "./whiteout.ts";

describe("whiteout helpers", () => {
  test("`whiteoutPathFor()` prefixes the base name only", () => {
    expect(whiteoutPathFor("etc/motd")).toBe("etc/.wh.motd");
    expect(whiteoutPathFor("a")).toBe(".wh.a");
    expect(whiteoutPathFor("a/b/")).toBe("a/.wh.b");
    expect(() => whiteoutPathFor("a/..")).toThrow();
    expect(opaqueWhiteoutPathFor("bin")).toBe("bin/.wh..wh..opq");
    expect(opaqueWhiteoutPathFor("")).toBe(".wh..wh..opq");
  });

  test("`isWhiteout()` and `parseWhiteout()` classify names", () => {
    expect(isWhiteout("x/.wh.y")).toBe(true);
    expect(isWhiteout(".wh.x/y")).toBe(false);
    expect(isOpaqueWhiteout("d/.wh..wh..opq")).toBe(true);
    expect(parseWhiteout("d/.wh..wh..opq")).toEqual({ kind: "opaque", dir: "d" });
    expect(parseWhiteout("d/e/.wh.f")).toEqual({ kind: "delete", dir: "d/e", target: "f" });
    expect(parseWhiteout("d/.wh..wh.plnk")).toEqual({ kind: "meta" });
    expect(parseWhiteout("d/.wh.")).toEqual({ kind: "invalid" });
    expect(parseWhiteout("d/.wh...")).toEqual({ kind: "invalid" });
    expect(parseWhiteout("d/f")).toBeUndefined();
  });
});
