import { describe, expect, test } from "bun:test";
import { isKbError } from "../errors.ts";
import { parseWwwAuthenticate } from "./www-authenticate.ts";

describe("parseWwwAuthenticate()", () => {
  test("reads a Bearer challenge with commas inside the quoted scope", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://auth.io/token",service="reg.io",scope="repository:a/b:pull,push"');
    expect(c).toEqual({ scheme: "bearer", params: { realm: "https://auth.io/token", service: "reg.io", scope: "repository:a/b:pull,push" } });
  });
  test("reads several challenges, token68, escapes and unquoted values", () => {
    const cs = parseWwwAuthenticate('Negotiate abc==, Basic realm="x \\"y\\"", Bearer realm=https://t, error=invalid_token');
    expect(cs.map((c) => c.scheme)).toEqual(["negotiate", "basic", "bearer"]);
    expect(cs[0].token68).toBe("abc==");
    expect(cs[1].params.realm).toBe('x "y"');
    expect(cs[2].params).toEqual({ realm: "https://t", error: "invalid_token" });
  });
  for (const bad of ["", '"', 'Bearer realm="unterminated', "Bearer realm=a b=c", "=x"])
    test(`rejects ${JSON.stringify(bad)} with REGISTRY_PROTOCOL`, () => {
      let err: unknown;
      try {
        parseWwwAuthenticate(bad);
      } catch (e) {
        err = e;
      }
      expect(isKbError(err, "REGISTRY_PROTOCOL")).toBe(true);
      expect((err as Error).message).toStartWith("Cannot parse WWW-Authenticate header");
    });
  test("never crashes or hangs on random input (fixed seed)", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'Bearer Basic realm="=,\\ \t:/scope';
    for (let i = 0; i < 5000; i++) {
      let s = "";
      const len = Math.floor(rnd() * 60);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        for (const c of parseWwwAuthenticate(s)) expect(typeof c.scheme).toBe("string");
      } catch (e) {
        expect(isKbError(e, "REGISTRY_PROTOCOL")).toBe(true);
      }
    }
  });
});
