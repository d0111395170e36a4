// Prune vs a running build (issue 13, item 4): `kb cache prune --all`, `--keep-storage 1MB` and
// `--older-than 1s` while a build runs (its RUN sleeps) must not remove what the build uses: 10 of 10 builds
// succeed, the pushed images are whole, prune says what it skipped and why, and `kb cache verify` is clean.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { cleanup, kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";
import { spawnKb } from "../kit/spawn-kb.ts";

const reg = useRegistryWithBusybox();
const dirs: string[] = [];
afterAll(async () => {
  cleanup(...dirs);
});

/**
 * Waits until a build in `cache` has pinned a tree that is complete in the store (it extracted its base and is
 * about to RUN). A tree is pinned before it is made, so the pin alone can come before anything is in the store.
 */
async function leaseWithTree(cache: string, done: Promise<unknown>): Promise<boolean> {
  let finished = false;
  void done.then(() => (finished = true));
  const dir = path.join(cache, "leases");
  while (!finished) {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const trees = readFileSync(path.join(dir, name), "utf8").split("\n").filter((l) => l.startsWith("tree ")).map((l) => l.slice(5));
      if (trees.some((t) => existsSync(path.join(cache, "trees", t, ".kb-complete")))) return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe("prune during a build", () => {
  test("10 builds, each pruned while it runs (--all, --keep-storage 1MB, --older-than 1s), all succeed", async () => {
    const cache = tempDir("kb-prune-build-cache-");
    dirs.push(cache);
    const modes = [["--all"], ["--keep-storage", "1MB"], ["--older-than", "1s"]];
    const skipped: string[] = [];
    for (let i = 0; i < 10; i++) {
      const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY n.txt /n.txt\nRUN sleep 1 && cat /n.txt > /out.txt\n`, "n.txt": `build ${i}\n` });
      dirs.push(ctx);
      const ref = `${reg.host}/prune/during:${i}`;
      const run = spawnKb(["build", "--cache-dir", cache, "--progress", "plain", "--cache-max-size", "0", "-t", ref, ctx]);
      const running = await leaseWithTree(cache, run.done);
      const mode = modes[i % modes.length]!;
      const p = await kb(["cache", "prune", "--cache-dir", cache, ...mode]);
      const exit = await run.done;
      expect({ i, running, code: exit.code, err: exit.code ? exit.err.slice(-1500) : "" }).toEqual({ i, running: true, code: 0, err: "" });
      expect(p.code).toBe(0);
      // --all would remove everything: what the running build uses is skipped, and prune says so. The other
      // modes may reach their goal before they get to the pinned entries.
      if (mode[0] === "--all") expect(p.out).toMatch(/skipped \d+ records, \d+ trees, \d+ blobs \(.*\): in use by 1 running build/);
      skipped.push(`${mode.join(" ")}: ${p.out.trim().replace(/\n/g, "; ")}`);
      const root = unpackFromRegistry(ref);
      dirs.push(path.dirname(path.dirname(root)));
      expect(readFileSync(path.join(root, "out.txt"), "utf8")).toBe(`build ${i}\n`);
      expect(existsSync(path.join(root, "bin", "busybox"))).toBe(true);
    }
    const v = await kb(["cache", "verify", "--cache-dir", cache]);
    expect({ code: v.code, out: v.out }).toMatchObject({ code: 0 });
    expect(readdirSync(path.join(cache, "leases"))).toEqual([]); // every build released its lease
    record("prune", "prune --all / --keep-storage 1MB / --older-than 1s during a build", "10 of 10 builds succeeded", skipped.slice(0, 3).join(" | "));
  }, 300_000);

  test("the lease of a SIGKILLed build is stale: prune drops it and removes what it pinned", async () => {
    const cache = tempDir("kb-prune-build-cache-");
    dirs.push(cache);
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN sleep 30\n` });
    dirs.push(ctx);
    const run = spawnKb(["build", "--cache-dir", cache, "--progress", "plain", "--no-push", ctx]);
    expect(await leaseWithTree(cache, run.done)).toBe(true);
    run.child.kill("SIGKILL");
    await run.done;
    const p = await kb(["cache", "prune", "--cache-dir", cache, "--all"]);
    expect(p.code).toBe(0);
    expect(p.out).toContain("dropped 1 lease of builds that no longer run");
    expect(p.out).not.toContain("skipped");
    expect(readdirSync(path.join(cache, "leases"))).toEqual([]);
    expect(readdirSync(path.join(cache, "blobs", "sha256"))).toEqual([]);
  }, 120_000);
});
