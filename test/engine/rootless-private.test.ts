// End to end, rootless with an /etc/subuid range: RUNs that leave entries kb cannot read from outside the
// user namespace (a 0700 dir owned by uid 1000, apt's partial/ cache dir) build, push and keep their modes.

import { beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { listTree, makeContext, must, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { ensureSubidUser, helperForOtherUsers, kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`rootless-private.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
let helper: string;
beforeAll(async () => {
  if (skip) return;
  ensureSubidUser();
  helper = await helperForOtherUsers();
});

const asUser = (user: string, group: string, home: string, args: string[]) => kbAs(user, group, home, args, helper);

function build(dockerfile: string, ref: string) {
  const ctx = makeContext({ Dockerfile: dockerfile });
  chmodSync(ctx, 0o755);
  const r = asUser("kbtest", "kbtest", userHome("kbtest"), ["build", "--progress", "plain", "-t", ref, ctx]);
  if (r.code !== 0) console.log(r.err);
  expect(r.err).not.toContain("corrupt");
  expect(r.code).toBe(0);
  return r;
}

describe.skipIf(!!skip)("rootless RUN leaving entries kb cannot read", () => {
  test("a 0700 dir of uid 1000 and its 0600 file keep modes, owner and content, and the next RUN sees them", () => {
    const ref = `${reg.host}/rootless/private:1`;
    build(`FROM ${reg.base}
RUN mkdir /d && touch /d/f && chown 1000:1000 /d && chmod 700 /d
RUN chmod 600 /d/f && echo secret > /d/f && chown 1000:1000 /d/f
RUN stat -c %a /d > /d.mode && stat -c '%a %u' /d/f > /f.mode
`, ref);
    const root = unpackFromRegistry(ref);
    const t = listTree(root);
    expect(t["d"]).toMatchObject({ type: "dir", mode: "0700", uid: 1000, gid: 1000 });
    expect(t["d/f"]).toMatchObject({ type: "file", mode: "0600", uid: 1000, gid: 1000 });
    expect(readFileSync(join(root, "d/f"), "utf8")).toBe("secret\n");
    expect(readFileSync(join(root, "d.mode"), "utf8")).toBe("700\n");
    expect(readFileSync(join(root, "f.mode"), "utf8")).toBe("600 1000\n");
  });

  test("an apt-like private cache dir (0700, uid 100) and a second RUN writing next to it build", () => {
    const ref = `${reg.host}/rootless/apt-like:1`;
    build(`FROM ${reg.base}
RUN mkdir -p /var/cache/x/partial && chown 100:0 /var/cache/x/partial && chmod 700 /var/cache/x/partial
RUN echo lock > /var/cache/x/lock && touch /var/cache/x/partial/pkg.deb && stat -c '%a %u' /var/cache/x/partial > /partial.mode
`, ref);
    const root = unpackFromRegistry(ref);
    const t = listTree(root);
    expect(t["var/cache/x/partial"]).toMatchObject({ type: "dir", mode: "0700", uid: 100, gid: 0 });
    expect(t["var/cache/x/partial/pkg.deb"]).toMatchObject({ type: "file", uid: 0 });
    expect(readFileSync(join(root, "var/cache/x/lock"), "utf8")).toBe("lock\n");
    expect(readFileSync(join(root, "partial.mode"), "utf8")).toBe("700 100\n");
  });
  test("a failing RUN that leaves a private dir leaves no work dir behind in the store", () => {
    const home = userHome("kbtest");
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN mkdir /p && touch /p/f && chown -R 1000:1000 /p && chmod 700 /p && exit 7\n` });
    chmodSync(ctx, 0o755);
    const r = asUser("kbtest", "kbtest", home, ["build", "--progress", "plain", "--no-push", ctx]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("exited with code 7");
    const leftovers = spawnSync("find", [join(home, ".cache/kb/tmp"), "-mindepth", "1"], { encoding: "utf8" }).stdout.trim();
    if (leftovers) console.log(leftovers, spawnSync("ls", ["-laR", join(home, ".cache/kb/tmp")], { encoding: "utf8" }).stdout);
    expect(leftovers).toBe("");
  });
});
