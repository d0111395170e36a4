// Store GC after each build (issue 15, store part): 50 builds of distinct small contexts with a small cap
// (--cache-max-size / KB_CACHE_MAX_SIZE): every build succeeds, the store is under the cap after each one,
// `kb cache verify` is clean, and `kb cache du` shows the cap. The default cap is BuildKit's (10% of the disk).

import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { statfsSync } from "node:fs";
import { cleanup, kb, makeContext, tempDir } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { defaultStoreCap, openStore, storeBytes } from "../../src/store/index.ts";
import { record } from "./_record.ts";
import { spawnKb } from "../kit/spawn-kb.ts";

const reg = useRegistryWithBusybox();
const dirs: string[] = [];
afterAll(async () => {
  cleanup(...dirs);
});

const CAP = 4 * 2 ** 20;

async function storeBytesOf(cache: string): Promise<number> {
  const r = await kb(["cache", "du", "--cache-dir", cache, "--format", "json"]);
  const u = JSON.parse(r.out) as { blobs: { bytes: number }; trees: { bytes: number }; cache: { bytes: number } };
  return u.blobs.bytes + u.trees.bytes + u.cache.bytes;
}

describe("store GC", () => {
  test("50 builds of distinct contexts with a 4 MiB cap: all succeed, the store stays under the cap", async () => {
    const cache = tempDir("kb-gc-cache-");
    dirs.push(cache);
    let peak = 0;
    let gcRuns = 0;
    for (let i = 0; i < 50; i++) {
      const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY f.bin /f.bin\nRUN cat /f.bin > /g.bin\n`, "f.bin": randomBytes(200_000).toString("latin1") });
      dirs.push(ctx);
      const env: Record<string, string> = i % 2 ? { KB_CACHE_MAX_SIZE: "4MiB" } : {};
      const args = i % 2 ? [] : ["--cache-max-size", "4MiB"];
      const r = await spawnKb(["build", "--cache-dir", cache, "--progress", "plain", "--no-push", ...args, ctx], env).done;
      expect({ i, code: r.code, err: r.code ? r.err.slice(-1500) : "" }).toEqual({ i, code: 0, err: "" });
      if (/store GC: /.test(r.err)) gcRuns++;
      const used = await storeBytesOf(cache);
      peak = Math.max(peak, used);
      expect({ i, used, over: used > CAP }).toEqual({ i, used, over: false });
    }
    const v = await kb(["cache", "verify", "--cache-dir", cache]);
    expect({ code: v.code, out: v.out }).toMatchObject({ code: 0 });
    // The cheap size the GC checks after every build (tree sizes remembered) agrees with a full walk.
    expect(await storeBytes(await openStore(cache))).toBe(await storeBytesOf(cache));
    const du = await kb(["cache", "du", "--cache-dir", cache], { KB_CACHE_MAX_SIZE: "4MiB" });
    expect(du.out).toMatch(/cap\s+4\.2 MB\s+\(KB_CACHE_MAX_SIZE\)/);
    expect(gcRuns).toBeGreaterThan(0);
    record("gc", "50 builds of distinct contexts, cap 4 MiB", `50 of 50 succeeded, store peak ${(peak / 1e6).toFixed(2)} MB`, `GC ran after ${gcRuns} builds; verify clean`);
  }, 600_000);

  test("the default cap is BuildKit's: 10% of the store's filesystem, rounded up to a whole GB", async () => {
    const cache = tempDir("kb-gc-cache-");
    dirs.push(cache);
    const st = statfsSync(cache);
    const expected = (Math.floor((st.bsize * st.blocks) / 10 / 2 ** 30) + 1) * 1e9;
    expect(await defaultStoreCap(cache)).toBe(expected);
    const du = await kb(["cache", "du", "--cache-dir", cache], { KB_CACHE_MAX_SIZE: undefined });
    expect(du.out).toContain("(default: 10% of the disk, as BuildKit's GC");
    expect(await defaultStoreCap("/nonexistent/kb-gc")).toBe(2e9);
  });
});
