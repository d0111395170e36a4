import { describe, expect, test } from "bun:test";
import { parseChmod } from "./chmod.ts";
import { resolveOwner, resolveUser, parsePasswd, parseGroup } from "./passwd.ts";
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
  test("an unknown name is a clear error (runc refuses to run as it)", () => {
    expect(() => resolveUser("ghost", db, "USER")).toThrow(/no user "ghost"/);
    expect(() => resolveUser("app:ghosts", db, "USER")).toThrow(/no group "ghosts"/);
  });
});

describe("resolveOwner() (--chown, WORKDIR under USER): BuildKit's WithUser and readUser", () => {
  const db = { passwd: parsePasswd("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\napp:x:7:7::/:/bin/sh\n"), group: parseGroup("root:x:0:\nappg:x:1001:\nextra:x:2000:app\n") };
  const owner = (spec: string) => {
    const warnings: string[] = [];
    return { ...resolveOwner(spec, db, (m) => warnings.push(m)), warnings };
  };
  test("a number is uid and gid alike; a name takes its first passwd entry; a group part replaces the gid", () => {
    expect(owner("1234")).toEqual({ uid: 1234, gid: 1234, warnings: [] }); // not app's passwd gid
    expect(owner("1000")).toEqual({ uid: 1000, gid: 1000, warnings: [] });
    expect(owner("app")).toEqual({ uid: 1000, gid: 1001, warnings: [] });
    expect(owner("app:extra")).toEqual({ uid: 1000, gid: 2000, warnings: [] });
    expect(owner("5:6")).toEqual({ uid: 5, gid: 6, warnings: [] });
  });
  test("an empty part is 0; an unknown user is 0:0 and an unknown group keeps the gid, each with a warning", () => {
    expect(owner("1234:")).toEqual({ uid: 1234, gid: 0, warnings: [] });
    expect(owner(":55")).toEqual({ uid: 0, gid: 55, warnings: [] });
    expect(owner("ghost")).toMatchObject({ uid: 0, gid: 0, warnings: [expect.stringContaining('no user "ghost"')] });
    expect(owner("1234:ghosts")).toMatchObject({ uid: 1234, gid: 1234, warnings: [expect.stringContaining('no group "ghosts"')] });
    expect(owner("app:ghosts")).toMatchObject({ uid: 1000, gid: 1001 });
    expect(resolveOwner("root", {}, () => {})).toEqual({ uid: 0, gid: 0 });
  });
});

describe("cacheKey()", () => {
  test("is stable, and parts cannot run into each other", () => {
    expect(cacheKey("p", "a", "b")).toBe(cacheKey("p", "a", "b"));
    expect(cacheKey("p", "ab", "")).not.toBe(cacheKey("p", "a", "b"));
    expect(cacheKey("p", undefined)).not.toBe(cacheKey("p", "undefined"));
  });
});
