// Isolation ladder tests: subuid parsing (malformed + fuzz), the choice table, and a real probe of this host.

import { expect, test } from "bun:test";
import { KbError } from "../errors.ts";
import { detectContainer, hasCapSysAdmin, parseSubIds } from "./index.ts";
import { readFileSync } from "node:fs";
import { chooseIsolation, formatIsolationReport, freeSubidRange, probeIsolation, type IsolationReport } from "./isolation.ts";

test("`parseSubIds()` finds the range by name or uid and skips malformed lines", () => {
  const text = "bad line\nalice:x:65536\nbob:100000:65536\n1001:300000:1000\nalice:-1:5\nalice:200000:65536\n";
  expect(parseSubIds(text, "bob", 5)).toEqual({ start: 100000, count: 65536 });
  expect(parseSubIds(text, "carol", 1001)).toEqual({ start: 300000, count: 1000 });
  expect(parseSubIds(text, "alice", 7)).toEqual({ start: 200000, count: 65536 });
  expect(parseSubIds(text, "dave", 9)).toBeUndefined();
  expect(parseSubIds("bob:0:0\nbob:4294967295:10\n", "bob", 1)).toBeUndefined();
});

test("`parseSubIds()` never throws on random text (fixed seed, 2000 cases)", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const parts = ["bob", ":", "1", "0", "\n", "65536", "-", " ", "x", "::"];
  for (let i = 0; i < 2000; i++) {
    const t = Array.from({ length: Math.floor(rnd() * 20) }, () => parts[Math.floor(rnd() * parts.length)]).join("");
    const r = parseSubIds(t, "bob", 1);
    if (r) expect(r.count > 0 && Number.isSafeInteger(r.start)).toBe(true);
  }
});

test("`hasCapSysAdmin()` reads bit 21 of CapEff", () => {
  expect(hasCapSysAdmin("CapEff:\t0000000000200000\n")).toBe(true);
  expect(hasCapSysAdmin("CapEff:\t00000000001fffff\n")).toBe(false);
  expect(hasCapSysAdmin("garbage")).toBe(false);
});

function report(over: Partial<IsolationReport>): IsolationReport {
  return {
    uid: 1000, gid: 1000, user: "u", capSysAdmin: false, maxUserNamespaces: 1000, unprivilegedUsernsClone: null,
    apparmorRestrictUserns: null, helper: { path: "/h" }, container: { inside: false, reasons: [] }, ...over,
  };
}

test("`chooseIsolation()` walks the ladder: root, rootless (full range or one id), container", () => {
  expect(chooseIsolation("auto", report({ uid: 0, capSysAdmin: true, root: { ok: true }, userns: { ok: true } })).mode).toBe("root");
  const tool = { path: "/usr/bin/newuidmap", setuid: true };
  const single = chooseIsolation("auto", report({ userns: { ok: true }, newuidmap: tool, newgidmap: tool }));
  expect(single.idMap).toEqual({ uids: [{ inside: 0, outside: 1000, count: 1 }], gids: [{ inside: 0, outside: 1000, count: 1 }] });
  const free = freeSubidRange(readOr("/etc/subuid"), readOr("/etc/subgid"));
  expect(single.warnings[0]).toContain(`sudo usermod --add-subuids ${free} --add-subgids ${free} u`);
  const full = chooseIsolation("auto", report({
    userns: { ok: true }, subids: { ok: true }, subuid: { start: 100000, count: 65536 }, subgid: { start: 100000, count: 65536 },
    newuidmap: tool, newgidmap: { ...tool, path: "/usr/bin/newgidmap" },
  }));
  expect(full.warnings).toEqual([]);
  expect(full.idMap?.uids[1]).toEqual({ inside: 1, outside: 100000, count: 65536 });
  expect(chooseIsolation("auto", report({ userns: { ok: false, error: "x" }, container: { inside: true, reasons: [] } })).mode).toBe("container");
});

test("`chooseIsolation()` refuses container mode outside a container unless forced, and explains AppArmor", () => {
  const r = report({ userns: { ok: false, error: "unshare CLONE_NEWUSER: Permission denied" }, apparmorRestrictUserns: 1 });
  try {
    chooseIsolation("auto", r);
    throw new Error("expected a refusal");
  } catch (e) {
    expect(e).toBeInstanceOf(KbError);
    expect((e as KbError).hint).toContain("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
  }
  expect(chooseIsolation("auto", r, { force: true }).mode).toBe("container");
  expect(() => chooseIsolation("root", report({}))).toThrow('Cannot use isolation "root"');
  expect(() => chooseIsolation("rootless", r)).toThrow("user namespaces are not allowed");
});

test("`probeIsolation()` probes this host by running the helper, and the report formats", async () => {
  const r = await probeIsolation();
  expect(r.helper.error).toBeUndefined();
  expect(typeof r.userns?.ok).toBe("boolean");
  expect(detectContainer().inside).toBe(r.container.inside);
  const text = formatIsolationReport(r, r.userns?.ok || r.root?.ok ? chooseIsolation("auto", r) : undefined);
  expect(text).toContain("user namespace (1 id)");
  console.log(text);
});

function readOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

test("`freeSubidRange()` proposes the range after the highest one in /etc/subuid and /etc/subgid", () => {
  expect(freeSubidRange("", "")).toBe("100000-165535");
  expect(freeSubidRange("alice:100000:65536\nbob:165536:65536\n", "alice:100000:65536\n")).toBe("231072-296607");
  expect(freeSubidRange("# comment\nbroken line\n", "carol:500000:1000\n")).toBe("501000-566535");
});
