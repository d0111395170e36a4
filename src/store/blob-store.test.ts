import { describe, expect, test, beforeEach, afterEach } from "bun:test";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { isKbError } from "../errors.ts";
import { defaultStoreDir, openStore, type Store } from "./blob-store.ts";
import { sha256Digest } from "../image/digest.ts";
import { du, prune, verify } from "./maintenance.ts";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kb-store-"));
  store = await openStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);
const streamOf = (...parts: string[]) => new Blob(parts).stream();
const BUN = process.execPath;
const WORKER = join(import.meta.dir, "../../test/kit/store-put-worker.ts");

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(BUN, [WORKER, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (b) => (out += b));
    p.on("close", (code) => resolve({ code, out }));
  });
}

describe("store", () => {
  test("`defaultStoreDir()` prefers KB_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
    expect(defaultStoreDir({ KB_CACHE_DIR: "/a", XDG_CACHE_HOME: "/b", HOME: "/h" })).toBe("/a");
    expect(defaultStoreDir({ XDG_CACHE_HOME: "/b", HOME: "/h" })).toBe("/b/kb");
    expect(defaultStoreDir({ HOME: "/h" })).toBe("/h/.cache/kb");
  });

  test("`put()` names the blob by its hash and `open()` gives the bytes back", async () => {
    const { digest, size } = await store.put(streamOf("hello ", "world"));
    expect(digest).toBe(sha256Digest("hello world"));
    expect(size).toBe(11);
    expect(await store.has(digest)).toBe(true);
    expect(await store.stat(digest)).toEqual({ size: 11 });
    expect(await new Response(await store.open(digest)).text()).toBe("hello world");
    expect(store.path(digest)).toBe(join(dir, "blobs", "sha256", digest.slice(7)));
    expect(await readdir(store.dirs.tmp)).toEqual([]);
  });

  test("`put()` with a wrong expected digest or size throws and leaves nothing", async () => {
    const wrong = sha256Digest("other");
    const e1 = await store.put(streamOf("abc"), { expected: wrong }).catch((e) => e);
    expect(isKbError(e1, "BLOB_DIGEST_MISMATCH")).toBe(true);
    expect(e1.message).toContain(wrong);
    const e2 = await store.put(streamOf("abc"), { expected: sha256Digest("abc"), size: 4 }).catch((e) => e);
    expect(isKbError(e2, "BLOB_SIZE_MISMATCH")).toBe(true);
    expect(await readdir(store.dirs.blobs)).toEqual([]);
    expect(await readdir(store.dirs.tmp)).toEqual([]);
  });

  test("`put()` aborted mid-stream removes its temp file", async () => {
    const ac = new AbortController();
    let n = 0;
    const s = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++n === 3) ac.abort();
        c.enqueue(new Uint8Array(1024));
      },
    });
    await expect(store.put(s, { signal: ac.signal })).rejects.toBeDefined();
    expect(await readdir(store.dirs.tmp)).toEqual([]);
    expect(await readdir(store.dirs.blobs)).toEqual([]);
  });

  test("`putBytes()` twice and `delete()`", async () => {
    const a = await store.putBytes(enc("x"));
    const b = await store.putBytes(enc("x"), a.digest);
    expect(b).toEqual(a);
    await store.delete(a.digest);
    await store.delete(a.digest);
    expect(await store.has(a.digest)).toBe(false);
    await expect(store.open(a.digest)).rejects.toMatchObject({ code: "STORE" });
  });

  test("`open()` and `path()` refuse a malformed digest", async () => {
    expect(() => store.path("sha256:../../etc/passwd" as never)).toThrow();
  });

  test("four processes writing the same blobs at once all succeed and the store verifies clean", async () => {
    const results = await Promise.all([0, 1, 2, 3].map((seed) => run([dir, "put", String(seed * 3), "12"])));
    for (const r of results) expect(r).toEqual({ code: 0, out: "done\n" });
    const report = await verify(store);
    expect(report).toEqual({ checked: 12, bad: [] });
    expect(await readdir(store.dirs.tmp)).toEqual([]);
    // withLock serialised the read-modify-write of the counter across processes
    expect(await readFile(join(dir, "counter.txt"), "utf8")).toBe("4");
    expect(await readdir(store.dirs.locks)).toEqual([]);
  }, 60_000);

  test("a killed writer leaves only a tmp file, which `prune()` removes", async () => {
    const p = spawn(BUN, [WORKER, dir, "hang", "0", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((r) => p.stdout.on("data", () => r()));
    await new Promise((r) => setTimeout(r, 100));
    p.kill("SIGKILL");
    await new Promise((r) => p.on("close", r));
    expect((await readdir(store.dirs.tmp)).length).toBe(1);
    expect(await readdir(store.dirs.blobs)).toEqual([]);
    const report = await prune(store);
    expect(report.tmp).toBe(1);
    expect(await readdir(store.dirs.tmp)).toEqual([]);
  }, 30_000);

  test("`verify()` reports and removes a blob whose content no longer matches its name", async () => {
    const good = await store.putBytes(enc("good"));
    const bad = await store.putBytes(enc("bad"));
    await writeFile(store.path(bad.digest), "tampered");
    const report = await verify(store);
    expect(report).toEqual({ checked: 2, bad: [bad.digest] });
    expect(await store.has(bad.digest)).toBe(false);
    expect(await store.has(good.digest)).toBe(true);
  });

  test("`du()` counts blobs, records, trees and tmp", async () => {
    await store.putBytes(enc("12345"));
    await store.cache.put("ab".repeat(32), { kind: "layer", data: { x: 1 } });
    await mkdir(join(store.dirs.trees, "t1"));
    await writeFile(join(store.dirs.trees, "t1", "f"), "123");
    const u = await du(store);
    expect(u.blobs).toEqual({ count: 1, bytes: 5 });
    expect(u.cache.count).toBe(1);
    expect(u.trees.count).toBe(1);
    expect(u.trees.bytes).toBeGreaterThanOrEqual(3);
    expect(u.tmp.count).toBe(0);
  });
});
