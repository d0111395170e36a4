import { describe, expect, test } from "bun:test";
import { isKbError } from "../../src/errors.ts";
import { parseAge, parseImageLocation, parseSize } from "../../src/cli/commands/index.ts";

/** A fixed-seed generator (xorshift32): the fuzz cases are the same on every run. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
}

function randomText(next: () => number, alphabet: string, max: number): string {
  let s = "";
  for (let n = Math.floor(next() * max); n > 0; n--) s += alphabet[Math.floor(next() * alphabet.length)];
  return s;
}

describe("parseSize()", () => {
  test("`parseSize()` reads docker-style sizes with binary units", () => {
    expect(parseSize("1048576", "x")).toBe(1048576);
    expect(parseSize("10GB", "x")).toBe(10 * 2 ** 30);
    expect(parseSize("10g", "x")).toBe(10 * 2 ** 30);
    expect(parseSize("512MiB", "x")).toBe(512 * 2 ** 20);
    expect(parseSize("1.5k", "x")).toBe(1536);
    expect(parseSize(" 2 TB ", "x")).toBe(2 * 2 ** 40);
    expect(parseSize("7b", "x")).toBe(7);
  });

  test("`parseSize()` refuses what is not a size with a USAGE error naming the flag", () => {
    for (const s of ["", "GB", "-1GB", "10XB", "1e3", "10 G B", "0x10", "10iB", "1..5G"]) {
      let err: unknown;
      try {
        parseSize(s, "--keep-storage");
      } catch (e) {
        err = e;
      }
      expect(isKbError(err, "USAGE") && (err as Error).message.startsWith(`Cannot use --keep-storage "${s}"`)).toBe(true);
    }
  });

  test("`parseSize()` and `parseAge()` on 3000 fixed-seed random strings: a number >= 0 or a USAGE error, never a crash", () => {
    const next = rng(7);
    for (let i = 0; i < 3000; i++) {
      const s = randomText(next, "0123456789.kmgtibKMGTIBdhms -x", 10);
      for (const fn of [parseSize, parseAge]) {
        try {
          const n = fn(s, "--flag");
          expect(Number.isFinite(n) && n >= 0).toBe(true);
        } catch (e) {
          expect(isKbError(e, "USAGE")).toBe(true);
        }
      }
    }
  });
});

describe("parseAge()", () => {
  test("`parseAge()` takes Go durations and whole days", () => {
    expect(parseAge("7d", "x")).toBe(7 * 86_400_000);
    expect(parseAge("72h", "x")).toBe(72 * 3_600_000);
    expect(parseAge("1h30m", "x")).toBe(90 * 60_000);
    expect(() => parseAge("1w", "x")).toThrow("not a duration");
  });
});

describe("parseImageLocation()", () => {
  test("`parseImageLocation()` tells oci:, docker-archive: and registry references apart, with optional tags", () => {
    expect(parseImageLocation("oci:out:v1", "/w")).toEqual({ kind: "file", format: "oci", path: "/w/out", tag: "v1" });
    expect(parseImageLocation("oci:/abs/dir", "/w")).toEqual({ kind: "file", format: "oci", path: "/abs/dir", tag: undefined });
    expect(parseImageLocation("oci:/tmp", "/w")).toEqual({ kind: "file", format: "oci", path: "/tmp", tag: undefined });
    expect(parseImageLocation("docker-archive:a.tar", "/w")).toEqual({ kind: "file", format: "docker", path: "/w/a.tar", tag: undefined });
    expect(parseImageLocation("docker-archive:a.tar:example/repo:1", "/w")).toEqual({ kind: "file", format: "docker", path: "/w/a.tar", tag: "example/repo:1" });
    expect(parseImageLocation("oci:out:", "/w")).toEqual({ kind: "file", format: "oci", path: "/w/out:", tag: undefined });
    const reg = parseImageLocation("docker://localhost:5000/app:2", "/w");
    expect(reg.kind === "registry" && reg.ref.toString()).toBe("localhost:5000/app:2");
    expect(parseImageLocation("busybox", "/w")).toMatchObject({ kind: "registry" });
  });

  test("`parseImageLocation()` on 3000 fixed-seed random strings: a location or a USAGE/REFERENCE_INVALID error", () => {
    const next = rng(42);
    const prefixes = ["oci:", "docker-archive:", "docker://", ""];
    for (let i = 0; i < 3000; i++) {
      const s = prefixes[Math.floor(next() * prefixes.length)] + randomText(next, "abcAZ09:/@._-\u00e9 \n", 24);
      try {
        const loc = parseImageLocation(s, "/nonexistent-kb-test-cwd");
        expect(["file", "registry"]).toContain(loc.kind);
        if (loc.kind === "file") expect(["oci", "docker"]).toContain(loc.format);
      } catch (e) {
        expect(isKbError(e, "USAGE") || isKbError(e, "REFERENCE_INVALID")).toBe(true);
      }
    }
  });
});
