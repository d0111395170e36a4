import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openStore, type Store } from "../../src/store/index.ts";
import type { Digest } from "../../src/image/types.ts";
import { kb } from "./_capture.ts";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "kb-cli-cache-"));
  store = await openStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const MiB = 1 << 20;

/** A blob of `size` bytes filled with `fill`, kept alive by a record last used `ageMs` ago. */
async function recordWithBlob(key: string, fill: number, size: number, ageMs: number): Promise<Digest> {
  const { digest } = await store.putBytes(new Uint8Array(size).fill(fill));
  await store.cache.put(key, { kind: "layer", data: { note: key }, refs: [digest] });
  const when = new Date(Date.now() - ageMs);
  utimesSync(path.join(store.dirs.cache, `${key}.json`), when, when);
  return digest;
}

function ageBlob(d: Digest, ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  utimesSync(store.path(d), when, when);
}

const cache = (...args: string[]) => kb(["cache", ...args, "--cache-dir", dir]);

describe("kb cache", () => {
  test("`kb cache du` counts blobs and records; `--format json` gives the numbers", async () => {
    await recordWithBlob("aaaaaaaa", 1, 1000, 0);
    await store.putBytes(new TextEncoder().encode("loose"));
    const r = await cache("du");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^blobs +2 +1\.0 kB$/m);
    expect(r.out).toMatch(/^cache +1 /m);
    const j = JSON.parse((await cache("du", "--format", "json")).out);
    expect(j).toMatchObject({ dir, blobs: { count: 2, bytes: 1005 }, cache: { count: 1 } });
  });

  test("`kb cache ls` lists records, most recently used first", async () => {
    await recordWithBlob("0123456789ab", 1, 10, 3 * DAY);
    await recordWithBlob("ba9876543210", 2, 10, 0);
    const r = await cache("ls");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^KEY +KIND +LAST USED +WHAT$/);
    expect(lines[1]).toStartWith("ba9876543210  layer");
    expect(lines[2]).toStartWith("0123456789ab  layer");
    expect(lines[3]).toBe("2 records");
    const j = JSON.parse((await cache("ls", "--format", "json")).out);
    expect(j.map((x: { key: string }) => x.key)).toEqual(["ba9876543210", "0123456789ab"]);
  });

  test("`kb cache prune --older-than 7d` drops old records and their blobs, keeps recent ones", async () => {
    const old = await recordWithBlob("aaaaaaaa", 1, 100, 10 * DAY);
    const recent = await recordWithBlob("bbbbbbbb", 2, 100, DAY);
    const { digest: loose } = await store.putBytes(new TextEncoder().encode("unreferenced"));
    ageBlob(loose, DAY); // past the grace period
    const r = await cache("prune", "--older-than", "7d");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^removed 1 records, 0 trees, 2 blobs, 0 temp files; freed /);
    expect(await store.has(old)).toBe(false);
    expect(await store.has(loose)).toBe(false);
    expect(await store.has(recent)).toBe(true);
    expect(await store.cache.get("bbbbbbbb")).toBeDefined();
  });

  test("`kb cache prune --keep-storage 2.5MiB` evicts least recently used first until the store fits", async () => {
    const oldest = await recordWithBlob("aaaaaaaa", 1, MiB, 3 * DAY);
    const middle = await recordWithBlob("bbbbbbbb", 2, MiB, 2 * DAY);
    const newest = await recordWithBlob("cccccccc", 3, MiB, DAY);
    const r = await cache("prune", "--keep-storage", "2.5MiB", "--format", "json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ records: 1, blobs: 1 });
    expect([await store.has(oldest), await store.has(middle), await store.has(newest)]).toEqual([false, true, true]);
  });

  test("`kb cache prune --all` empties the store", async () => {
    await recordWithBlob("aaaaaaaa", 1, 100, 0);
    await store.putBytes(new TextEncoder().encode("fresh loose blob"));
    expect((await cache("prune", "--all")).code).toBe(0);
    const j = JSON.parse((await cache("du", "--format", "json")).out);
    expect([j.blobs.count, j.cache.count]).toEqual([0, 0]);
  });

  test("`kb cache verify` exits 1 on a corrupt blob, names it and removes it", async () => {
    const good = await recordWithBlob("aaaaaaaa", 1, 100, 0);
    const bad = await recordWithBlob("bbbbbbbb", 2, 100, 0);
    writeFileSync(store.path(bad), "tampered");
    const r = await cache("verify");
    expect(r.code).toBe(1);
    expect(r.out).toBe(`checked 2 blobs: 1 corrupt (removed)\n  corrupt: ${bad}\n`);
    expect(existsSync(store.path(bad))).toBe(false);
    expect(await store.has(good)).toBe(true);
    expect(await cache("verify")).toMatchObject({ code: 0, out: "checked 1 blobs: all intact\n" });
  });

  test("usage errors exit 2: no or unknown subcommand, prune flags elsewhere, bad sizes and durations", async () => {
    const cases = [[], ["bogus"], ["du", "--all"], ["ls", "--older-than", "1h"], ["prune", "--keep-storage", "lots"], ["prune", "--older-than", "3 days"], ["prune", "--format", "xml"], ["du", "ls"], ["du", "--cahce-dir"]];
    for (const args of cases) {
      const r = await cache(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toStartWith("error[USAGE]: ");
    }
    expect((await kb(["cache", "--help"])).out).toContain("--keep-storage SIZE");
  });
});
