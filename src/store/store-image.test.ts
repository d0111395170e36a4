import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomImage, validateImage } from "../../test/kit/random-image.ts";
import { openStore, type Store } from "./blob-store.ts";
import { prune } from "./maintenance.ts";
import { putImage, storeImage } from "./store-image.ts";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kb-simg-"));
  store = await openStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("storeImage()", () => {
  test("`putImage()` then `storeImage()` gives the same image, valid byte for byte", async () => {
    const img = randomImage({ seed: 3, layers: 3 });
    const d = await putImage(store, img);
    expect(d).toBe(await img.digest());
    const back = await storeImage(store, d);
    expect(await back.digest()).toBe(d);
    expect(await back.rawConfig()).toEqual(await img.rawConfig());
    await validateImage(back);
  });

  test("`prune()` keeps blobs reachable from a record's manifest and removes the rest", async () => {
    const kept = await putImage(store, randomImage({ seed: 1 }));
    const dropped = await putImage(store, randomImage({ seed: 2 }));
    await store.cache.put("aa".repeat(32), { kind: "image", data: null, refs: [kept] });
    const report = await prune(store, { graceMs: -1 });
    expect(report.blobs).toBe(4); // manifest, config, 2 layers of the unreferenced image
    await validateImage(await storeImage(store, kept));
    expect(await store.has(dropped)).toBe(false);
  });

  test("`prune()` with keepStorage evicts least recently used records first", async () => {
    const a = await putImage(store, randomImage({ seed: 1 }));
    const b = await putImage(store, randomImage({ seed: 2 }));
    await store.cache.put("aa".repeat(32), { kind: "image", data: null, refs: [a] });
    await new Promise((r) => setTimeout(r, 20));
    await store.cache.put("bb".repeat(32), { kind: "image", data: null, refs: [b] });
    await new Promise((r) => setTimeout(r, 20));
    await store.cache.get("aa".repeat(32)); // a is now the most recently used
    const size = (await store.stat(b))!.size;
    const report = await prune(store, { keepStorage: 20_000 + size });
    expect(report.records).toBe(1);
    expect(await store.cache.get("aa".repeat(32))).toBeDefined();
    expect(await store.cache.get("bb".repeat(32))).toBeUndefined();
    expect(await store.has(b)).toBe(false);
    expect(await store.has(a)).toBe(true);
  });

  test("`prune({ all: true })` empties the store", async () => {
    await putImage(store, randomImage({ seed: 1 }));
    await store.cache.put("aa".repeat(32), { kind: "x", data: 1 });
    const report = await prune(store, { all: true });
    expect(report.records).toBe(1);
    expect(report.blobs).toBe(4);
  });
});
