import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prng } from "../../test/kit/random-image.ts";
import { openStore, type Store } from "./blob-store.ts";
import { parseCacheRecord } from "./cache-index.ts";
import { withLock } from "./lock.ts";
import { prune } from "./maintenance.ts";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kb-cache-"));
  store = await openStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const KEY = "0123456789abcdef".repeat(4);
const D = `sha256:${"a".repeat(64)}` as const;

describe("cache index", () => {
  test("`cache.put()` then `cache.get()` returns the record and refreshes lastUsed", async () => {
    const put = await store.cache.put(KEY, { kind: "layer", data: { diffId: D }, refs: [D] });
    await new Promise((r) => setTimeout(r, 10));
    const got = await store.cache.get(KEY);
    expect(got).toMatchObject({ kind: "layer", data: { diffId: D }, refs: [D], createdAt: put.createdAt });
    expect(got!.lastUsed).toBeGreaterThan(put.lastUsed);
    expect(await store.cache.get("f".repeat(64))).toBeUndefined();
    expect(await readdir(store.dirs.tmp)).toEqual([]);
  });

  test("`cache.put()` refuses keys that are not hex", async () => {
    for (const k of ["../x", "ABC123ff", "", "g".repeat(64), "a".repeat(200)]) {
      await expect(store.cache.put(k, { kind: "x", data: 1 })).rejects.toMatchObject({ code: "STORE" });
    }
  });

  test("`cache.get()` drops a corrupt record instead of failing the build", async () => {
    await writeFile(join(store.dirs.cache, `${KEY}.json`), '{"kind": 1');
    expect(await store.cache.get(KEY)).toBeUndefined();
    expect(await readdir(store.dirs.cache)).toEqual([]);
  });

  test("`parseCacheRecord()` never throws on random bytes (fixed seed)", () => {
    const rnd = prng(3);
    const good = JSON.stringify({ kind: "k", data: [1, { a: "b" }], refs: [D, "nope"], createdAt: 1, lastUsed: 2 });
    expect(parseCacheRecord(good, 0)?.refs).toEqual([D]);
    for (let i = 0; i < 2000; i++) {
      const b = good.split("");
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) b[Math.floor(rnd() * b.length)] = String.fromCharCode(Math.floor(rnd() * 128));
      const r = parseCacheRecord(b.join(""), 5);
      if (r) expect(typeof r.kind).toBe("string");
    }
  });

  test("`prune({ olderThan })` removes records not used recently and keeps the rest", async () => {
    await store.cache.put(KEY, { kind: "x", data: 1 });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(store.dirs.cache, `${KEY}.json`), hourAgo, hourAgo);
    await store.cache.put("ff".repeat(32), { kind: "x", data: 2 });
    const report = await prune(store, { olderThan: 60_000 });
    expect(report.records).toBe(1);
    expect(await store.cache.get(KEY)).toBeUndefined();
    expect(await store.cache.get("ff".repeat(32))).toBeDefined();
  });

  test("`withLock()` takes over a lock left by a dead process and waits for a live one", async () => {
    await writeFile(join(store.dirs.locks, "a.lock"), `999999999@${(await import("node:os")).hostname()}`);
    expect(await withLock(store.dirs.locks, "a", async () => "ran", { timeoutMs: 2000 })).toBe("ran");
    const order: string[] = [];
    const first = store.withLock("b", async () => {
      await new Promise((r) => setTimeout(r, 50));
      order.push("first");
    });
    await new Promise((r) => setTimeout(r, 5));
    await store.withLock("b", async () => void order.push("second"));
    await first;
    expect(order).toEqual(["first", "second"]);
    await writeFile(join(store.dirs.locks, "c.lock"), `${process.pid}@elsewhere`);
    await expect(store.withLock("c", async () => 1, { timeoutMs: 30 })).rejects.toMatchObject({ code: "STORE", temporary: true });
    expect((await readdir(store.dirs.locks)).sort()).toEqual(["c.lock"]);
  });
});
