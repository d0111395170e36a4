import { describe, expect, test } from "bun:test";
import { isKbError } from "../errors.ts";
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformMatches } from "./platform.ts";

describe("parsePlatform()", () => {
  const table: [string, string][] = [
    ["linux/amd64", "linux/amd64"],
    ["linux/x86_64", "linux/amd64"],
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/v6", "linux/arm/v6"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/amd64/v3", "linux/amd64/v3"],
    ["arm64", "linux/arm64"],
    ["Linux/AMD64", "linux/amd64"],
  ];
  for (const [input, out] of table) test(`normalises "${input}" to "${out}"`, () => expect(formatPlatform(parsePlatform(input))).toBe(out));

  for (const bad of ["", "linux/", "a/b/c/d", "linux/am d64"])
    test(`rejects "${bad}"`, () => {
      expect(() => parsePlatform(bad)).toThrow("Cannot parse platform");
      try {
        parsePlatform(bad);
      } catch (e) {
        expect(isKbError(e, "USAGE")).toBe(true);
      }
    });
});

describe("platformMatches()", () => {
  test("treats arm64 and arm64/v8, amd64 and x86_64 as equal", () => {
    expect(platformMatches(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" })).toBe(true);
    expect(platformMatches({ os: "linux", architecture: "x86_64" }, { os: "linux", architecture: "amd64" })).toBe(true);
  });
  test("distinguishes os, architecture and an asked-for variant", () => {
    expect(platformMatches(parsePlatform("linux/amd64"), { os: "linux", architecture: "arm64" })).toBe(false);
    expect(platformMatches(parsePlatform("linux/amd64"), { os: "windows", architecture: "amd64" })).toBe(false);
    expect(platformMatches(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" })).toBe(false);
    expect(platformMatches(parsePlatform("linux/arm"), { os: "linux", architecture: "arm", variant: "v7" })).toBe(true);
    expect(platformMatches({ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "amd64", variant: "v2" })).toBe(true);
  });
});

describe("hostPlatform()", () => {
  test("maps process.arch to an OCI architecture", () => {
    const p = hostPlatform();
    expect(p.os).toBe("linux");
    if (process.arch === "x64") expect(p.architecture).toBe("amd64");
    expect(normalizePlatform(p)).toEqual(normalizePlatform(parsePlatform(formatPlatform(p))));
  });
});
