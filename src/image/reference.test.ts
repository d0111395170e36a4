import { describe, expect, test } from "bun:test";
import { isKbError } from "../errors.ts";
import { manifestReference, parseReference, registryApiHost, withDigest, withTag } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseReference()", () => {
  const good: [string, string, string, string, string?, string?][] = [
    // input, toString, registry, repository, tag, digest
    ["busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36"],
    ["me/app", "docker.io/me/app:latest", "docker.io", "me/app", "latest"],
    ["index.docker.io/library/x", "docker.io/library/x:latest", "docker.io", "library/x", "latest"],
    ["registry-1.docker.io/x", "docker.io/library/x:latest", "docker.io", "library/x", "latest"],
    ["localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000", "a/b", "t"],
    ["localhost/a", "localhost/a:latest", "localhost", "a", "latest"],
    [`host.io/x@${D}`, `host.io/x@${D}`, "host.io", "x", undefined, D],
    [`host.io/x:v1@${D}`, `host.io/x:v1@${D}`, "host.io", "x", "v1", D],
    ["[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000", "x", "latest"],
    ["127.0.0.1:5000/a_b/c__d/e-f/g.h:T_1.x-y", "127.0.0.1:5000/a_b/c__d/e-f/g.h:T_1.x-y", "127.0.0.1:5000", "a_b/c__d/e-f/g.h", "T_1.x-y"],
    ["ghcr.io/o/r/deep/path:1", "ghcr.io/o/r/deep/path:1", "ghcr.io", "o/r/deep/path", "1"],
  ];
  for (const [input, str, registry, repository, tag, digest] of good) {
    test(`parses "${input}"`, () => {
      const r = parseReference(input);
      expect(r.toString()).toBe(str);
      expect(r.registry).toBe(registry);
      expect(r.repository).toBe(repository);
      expect(r.tag).toBe(tag);
      expect(r.digest).toBe(digest as never);
      expect(r.name()).toBe(`${registry}/${repository}`);
      expect(parseReference(r.toString()).toString()).toBe(str);
    });
  }

  const bad: [string, string][] = [
    ["", "empty"],
    ["Busybox", "lowercase"],
    ["docker.io/Library/busybox", "lowercase"],
    ["busybox:", "tag"],
    ["busybox:-x", "tag"],
    [`busybox:${"a".repeat(129)}`, "tag"],
    ["busybox@sha256:abc", "digest"],
    [`busybox@sha512:${"a".repeat(128)}`, "digest"],
    ["a//b", "empty path component"],
    ["a/b/", "empty path component"],
    ["host:99999/x", "port"],
    ["[zz]:5000/x", "IPv6"],
    ["bad_host.io/x", "host name"],
    ["a b", "whitespace"],
    ["a..b", "path component"],
    ["-a", "path component"],
    [`x.io/${"a".repeat(260)}`, "255"],
  ];
  for (const [input, reason] of bad) {
    test(`rejects "${input.slice(0, 40)}" (${reason})`, () => {
      let err: unknown;
      try {
        parseReference(input);
      } catch (e) {
        err = e;
      }
      expect(isKbError(err, "REFERENCE_INVALID")).toBe(true);
      expect((err as Error).message).toContain(reason);
      expect((err as Error).message).toStartWith("Cannot parse image reference");
    });
  }

  test("honours defaultTag and defaultRegistry", () => {
    expect(parseReference("x", { defaultTag: "edge", defaultRegistry: "r.io" }).toString()).toBe("r.io/x:edge");
  });

  test("never throws anything but KbError on random input (fixed seed)", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = "abcAZ09:/@._-[]sha256 ";
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rnd() * 40);
      let s = "";
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        const r = parseReference(s);
        expect(parseReference(r.toString()).toString()).toBe(r.toString());
      } catch (e) {
        expect(isKbError(e, "REFERENCE_INVALID")).toBe(true);
      }
    }
  });
});

describe("reference helpers", () => {
  test("withTag(), withDigest(), manifestReference(), registryApiHost()", () => {
    const r = parseReference("localhost:5000/a:1");
    expect(withTag(r, "2").toString()).toBe("localhost:5000/a:2");
    expect(withDigest(r, D as never).toString()).toBe(`localhost:5000/a@${D}`);
    expect(manifestReference(parseReference(`x.io/a:1@${D}`))).toBe(D);
    expect(manifestReference(r)).toBe("1");
    expect(registryApiHost("docker.io")).toBe("registry-1.docker.io");
    expect(registryApiHost("localhost:5000")).toBe("localhost:5000");
  });
});
