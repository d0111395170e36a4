import { describe, expect, test } from "bun:test";
import { parseChmod } from "./chmod.ts";
import { resolveUser, parsePasswd, parseGroup } from "./passwd.ts";
import { cacheKey } from "../core/cache-key.ts";

describe("parseChmod()", () => {
  test("octal sets the bits, symbolic edits them like chmod(1)", () => {
    expect(parseChmod("0755")(0o100644, false) & 0o7777).toBe(0o755);
    expect(parseChmod("u=rwx,go=rx")(0o600, false) & 0o7777).toBe(0o755);
    expect(parseChmod("a+x")(0o644, false) & 0o7777).toBe(0o755);
    expect(parseChmod("go-w")(0o666, false) & 0o7777).toBe(0o644);
    expect(parseChmod("a+X")(0o644, true) & 0o7777).toBe(0o755);
    expect(parseChmod("a+X")(0o644, false) & 0o7777).toBe(0o644);
    expect(() => parseChmod("rwx")).toThrow(/neither octal nor symbolic/);
  });
});

describe("resolveUser()", () => {
  const db = { passwd: parsePasswd("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n"), group: parseGroup("root:x:0:\nappg:x:1001:\nextra:x:2000:app\n") };
  test("names resolve through passwd and group, with supplementary groups", () => {
    expect(resolveUser("app", db, "USER")).toEqual({ uid: 1000, gid: 1001, groups: [2000], home: "/home/app" });
    expect(resolveUser("app:root", db, "USER").gid).toBe(0);
    expect(resolveUser("42:43", {}, "USER")).toMatchObject({ uid: 42, gid: 43 });
  });
  test("HOME is the passwd entry's home, \"/\" without one; root needs no /etc/passwd (BuildKit)", () => {
    expect(resolveUser("0", db, "USER").home).toBe("/root");
    expect(resolveUser("4321:4321", db, "USER")).toMatchObject({ uid: 4321, gid: 4321, home: "/" });
    expect(resolveUser("root", {}, "USER")).toMatchObject({ uid: 0, gid: 0, home: "/root" });
  });
  test("an unknown name is a clear error", () => {
    expect(() => resolveUser("ghost", db, "--chown")).toThrow(/no user "ghost"/);
    expect(() => resolveUser("app:ghosts", db, "--chown")).toThrow(/no group "ghosts"/);
  });
});

describe("cacheKey()", () => {
  test("is stable, and parts cannot run into each other", () => {
    expect(cacheKey("p", "a", "b")).toBe(cacheKey("p", "a", "b"));
    expect(cacheKey("p", "ab", "")).not.toBe(cacheKey("p", "a", "b"));
    expect(cacheKey("p", undefined)).not.toBe(cacheKey("p", "undefined"));
  });
});
