// docker build's --ulimit and --shm-size: every RUN gets those resource limits and that /dev/shm, as root, as nobody
// and as a user with a subuid range, and they are part of each RUN's cache key (BuildKit: ExecOp meta ulimits and a
// tmpfs mount of that size on /dev/shm).

import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { ensureSubidUser, helperForOtherUsers, kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";
import { canRaiseHardLimits, ownHardLimits } from "../../src/cli/commands/run-limits.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`run-limits.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
let helper: string;
let cache: string;
beforeAll(async () => {
  if (skip) return;
  ensureSubidUser();
  helper = await helperForOtherUsers();
  cache = tempDir("kb-cache-");
});

const PROBE = `RUN (ulimit -Sn; ulimit -Hn; ulimit -c; grep ' /dev/shm ' /proc/mounts | cut -d' ' -f4) > /limits`;
const FLAGS = ["--ulimit", "nofile=300:4000", "--ulimit", "core=0", "--shm-size", "128m"];

/** /limits of the image: soft and hard open files, core size, and /dev/shm's mount options. */
const limitsOf = (ref: string) => readFileSync(join(unpackFromRegistry(ref), "limits"), "utf8").trim().split("\n");

describe.skipIf(!!skip)("--ulimit and --shm-size", () => {
  test("as root: every RUN has the limits and the /dev/shm size; without them Docker's defaults; each is its own cache entry", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\n${PROBE}\n` });
    const plain = `${reg.host}/limits/plain:1`;
    expect((await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", plain, ctx])).code).toBe(0);
    const [, , , shm] = limitsOf(plain);
    expect(shm).toContain("size=65536k");
    expect(shm).toContain("noexec");

    const set = `${reg.host}/limits/set:1`;
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", ...FLAGS, "-t", set, ctx]);
    expect(r.code).toBe(0);
    expect(r.err + r.out).not.toContain("CACHED RUN");
    const [soft, hard, core, shm2] = limitsOf(set);
    expect([soft, hard, core]).toEqual(["300", "4000", "0"]);
    expect(shm2).toContain("size=131072k");
    expect(shm2).not.toContain("noexec"); // BuildKit's tmpfs mount, as with --shm-size there

    const other = `${reg.host}/limits/other:1`;
    const r2 = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--ulimit", "nofile=301:4000", "--ulimit", "core=0", "--shm-size", "128m", "-t", other, ctx]);
    expect(r2.code).toBe(0);
    expect(r2.err + r2.out).not.toContain("CACHED RUN");
    expect(limitsOf(other)[0]).toBe("301");
    const again = await kb(["build", "--cache-dir", cache, "--progress", "plain", ...FLAGS, "-t", set, ctx]);
    expect(again.err + again.out).toContain("CACHED RUN");
  });

  test("a hard limit above kb's own is applied with CAP_SYS_RESOURCE and refused up front without it", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\n${PROBE}\n` });
    const have = ownHardLimits().nofile!;
    const above = have === -1 ? undefined : have + 1000;
    if (above === undefined) return; // kb's own limit is unlimited: nothing is above it
    const ref = `${reg.host}/limits/raise:1`;
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--ulimit", `nofile=100:${above}`, "-t", ref, ctx]);
    if (canRaiseHardLimits()) {
      expect(r.code).toBe(0);
      expect(limitsOf(ref).slice(0, 2)).toEqual(["100", String(above)]);
    } else {
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`the hard limit is above kb's own (${have})`);
      expect(r.err).toContain("CAP_SYS_RESOURCE");
    }
  });

  for (const [user, group] of [["nobody", "nogroup"], ["kbtest", "kbtest"]] as const) {
    test(`as ${user} (rootless): the same limits and /dev/shm size`, () => {
      const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\n${PROBE}\n` });
      chmodSync(ctx, 0o755);
      const ref = `${reg.host}/limits/${user}:1`;
      const r = kbAs(user, group, userHome(user), ["build", "--progress", "plain", ...FLAGS, "-t", ref, ctx], helper);
      if (r.code !== 0) console.log(r.err);
      expect(r.code).toBe(0);
      const [soft, hard, core, shm] = limitsOf(ref);
      expect([soft, hard, core]).toEqual(["300", "4000", "0"]);
      expect(shm).toContain("size=131072k");
    });
  }
});
