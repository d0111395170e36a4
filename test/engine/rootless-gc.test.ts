// Store GC when rootless with an /etc/subuid range (issue 15, store part): a RUN leaves a tree holding a 0700
// directory of uid 1000 (host subuid 200999: container 0 is the user, 1.. the range), which the build's user cannot empty with rm; the GC after the
// next build removes it through the sandbox helper's rmtree (rm as the user fails on it).

import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { makeContext, tempDir } from "../kit/kb.ts";
import { ensureSubidUser, helperForOtherUsers, kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`rootless-gc.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
let helper: string;
beforeAll(async () => {
  if (skip) return;
  ensureSubidUser();
  helper = await helperForOtherUsers();
});

describe.skipIf(!!skip)("rootless store GC", () => {
  test("a tree with a 0700 dir of a sub-id is removed by the GC through the helper", () => {
    const home = userHome("kbtest");
    const build = (dockerfile: string, cap: string) => {
      const ctx = makeContext({ Dockerfile: dockerfile });
      chmodSync(ctx, 0o755);
      return kbAs("kbtest", "kbtest", home, ["build", "--progress", "plain", "--no-push", "--cache-max-size", cap, ctx], helper);
    };
    const first = build(`FROM ${reg.base}\nRUN mkdir -p /d/e && echo x > /d/e/f && chown -R 1000:1000 /d && chmod 700 /d /d/e\n`, "0");
    expect({ code: first.code, err: first.code ? first.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    const trees = join(home, ".cache/kb/trees");
    const private0700 = readdirSync(trees).filter((n) => spawnSync("find", [join(trees, n), "-maxdepth", "3", "-uid", "200999"], { encoding: "utf8" }).stdout.trim());
    expect(private0700.length).toBeGreaterThan(0); // a tree kbtest cannot empty by itself
    const rm = spawnSync("setpriv", ["--reuid=kbtest", "--regid=kbtest", "--init-groups", "rm", "-rf", join(trees, private0700[0]!)], { encoding: "utf8" });
    expect(rm.status).not.toBe(0); // rm as the user fails: only the user namespace can remove it

    const second = build(`FROM ${reg.base}\nRUN echo other > /o\n`, "1KB");
    expect({ code: second.code, err: second.code ? second.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    expect(second.err).toMatch(/store GC: .* removed \d+ records, [1-9]\d* trees/);
    expect(second.err).not.toContain("store GC skipped");
    expect(readdirSync(trees).filter((n) => private0700.includes(n))).toEqual([]);
  }, 180_000);

  test("kb cache prune --all removes such a tree too", () => {
    const home = userHome("kbtest");
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN mkdir -p /p/q && echo y > /p/q/f && chown -R 1000:1000 /p && chmod 700 /p /p/q\n` });
    chmodSync(ctx, 0o755);
    const b = kbAs("kbtest", "kbtest", home, ["build", "--progress", "plain", "--no-push", "--cache-max-size", "0", ctx], helper);
    expect({ code: b.code, err: b.code ? b.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    const trees = join(home, ".cache/kb/trees");
    expect(readdirSync(trees).some((n) => spawnSync("find", [join(trees, n), "-maxdepth", "3", "-uid", "200999"], { encoding: "utf8" }).stdout.trim())).toBe(true);
    const p = kbAs("kbtest", "kbtest", home, ["cache", "prune", "--all"], helper);
    expect({ code: p.code, err: p.err }).toEqual({ code: 0, err: "" });
    expect(readdirSync(trees)).toEqual([]);
  }, 180_000);
});
