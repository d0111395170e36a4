// Stalled and endless bodies (issue 13, items 1–2): a registry or an ADD origin that sends the headers and part
// of a body, then nothing, must end in a clear error after KB_REGISTRY_TIMEOUT (1 s here) and the retries;
// a blob that stalls once is resumed with Range; an endless ADD body stops at --max-download. Each case ends
// with `kb cache verify` clean and no temp file left.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import path from "node:path";
import { cleanup, kb, makeContext, tempDir } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";
import { spawnKb } from "../kit/spawn-kb.ts";
import { startBadOrigin, startStallProxy, type StallServer } from "./_stall-server.ts";

const reg = useRegistryWithBusybox();
let origin: StallServer;
const dirs: string[] = [];
const ENV = { KB_REGISTRY_TIMEOUT: "1" };
const isBlob = (m: string, p: string) => m === "GET" && /\/blobs\/sha256:/.test(p);
const isManifest = (m: string, p: string) => m === "GET" && /\/manifests\//.test(p);

beforeAll(async () => {
  origin = await startBadOrigin();
});
afterAll(async () => {
  await origin?.stop();
  cleanup(...dirs);
});

/** `kb cache verify` is clean and tmp/ holds nothing. */
async function storeClean(cache: string): Promise<void> {
  const v = await kb(["cache", "verify", "--cache-dir", cache]);
  expect({ code: v.code, out: v.out }).toMatchObject({ code: 0 });
  expect(readdirSync(path.join(cache, "tmp"))).toEqual([]);
}

async function pullThrough(proxy: StallServer): Promise<{ code: number | null; err: string; out: string; cache: string; ms: number }> {
  const cache = tempDir("kb-stall-cache-");
  dirs.push(cache);
  const t0 = performance.now();
  const r = await spawnKb(["pull", "--cache-dir", cache, `${proxy.host}/library/busybox:latest`], ENV).done;
  return { ...r, cache, ms: performance.now() - t0 };
}

describe("stalled bodies end in a clear error", () => {
  test("a manifest body that stalls forever", async () => {
    const proxy = await startStallProxy(reg.url, isManifest);
    try {
      const r = await pullThrough(proxy);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/error\[REGISTRY\]: Cannot pull manifest of .*: no byte from http:\/\/127\.0\.0\.1:\d+\/v2\/library\/busybox\/manifests\/latest for 1 s after \d+ bytes/);
      expect(r.err).toContain("KB_REGISTRY_TIMEOUT");
      await storeClean(r.cache);
      record("stalls", "manifest body stalls forever (KB_REGISTRY_TIMEOUT=1)", `exit 1 after ${(r.ms / 1000).toFixed(1)} s`, r.err.match(/error\[\w+\]: .*/)?.[0].slice(0, 160) ?? "");
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  test("a blob body that stalls forever", async () => {
    const proxy = await startStallProxy(reg.url, isBlob);
    try {
      const r = await pullThrough(proxy);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/error\[REGISTRY\]: Cannot pull blob .*: no byte from http:\/\/127\.0\.0\.1:\d+\/v2\/library\/busybox\/blobs\/sha256:[0-9a-f]{64} for 1 s after \d+ bytes/);
      expect(r.err).toContain("resumes tried");
      expect(proxy.ranges).toBeGreaterThan(0); // each retry asked for the rest only
      await storeClean(r.cache);
      record("stalls", "blob body stalls forever (KB_REGISTRY_TIMEOUT=1)", `exit 1 after ${(r.ms / 1000).toFixed(1)} s, ${proxy.stalls} stalls, ${proxy.ranges} Range requests`, r.err.match(/error\[\w+\]: .*/)?.[0].slice(0, 160) ?? "");
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  test("a blob that stalls once is resumed with Range and the pull succeeds", async () => {
    const proxy = await startStallProxy(reg.url, isBlob, 1);
    try {
      const r = await pullThrough(proxy);
      expect({ code: r.code, err: r.code ? r.err : "" }).toEqual({ code: 0, err: "" });
      expect(proxy.stalls).toBe(1);
      expect(proxy.ranges).toBe(1);
      await storeClean(r.cache);
      record("stalls", "blob stalls once", `pulled, resumed by 1 Range request in ${(r.ms / 1000).toFixed(1)} s`, "");
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  test("ADD <url> whose body stalls after 10 bytes", async () => {
    const cache = tempDir("kb-stall-cache-");
    const ctx = makeContext({ Dockerfile: `FROM scratch\nADD ${origin.url}/stall /f\n` });
    dirs.push(cache, ctx);
    const t0 = performance.now();
    const r = await spawnKb(["build", "--cache-dir", cache, "--no-push", "--progress", "plain", ctx], ENV).done;
    const ms = performance.now() - t0;
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Cannot ADD "${origin.url}/stall": no byte from ${origin.url}/stall for 1 s after 10 bytes`);
    expect(r.err).toContain("KB_REGISTRY_TIMEOUT");
    await storeClean(cache);
    record("stalls", "ADD <url>: headers + 10 bytes, then silence", `exit 1 after ${(ms / 1000).toFixed(1)} s`, r.err.match(/error\[\w+\]: .*/)?.[0].slice(0, 160) ?? "");
  }, 120_000);

  test("ADD <url> with an endless body stops at --max-download", async () => {
    const cache = tempDir("kb-stall-cache-");
    const ctx = makeContext({ Dockerfile: `FROM scratch\nADD ${origin.url}/endless /f\n` });
    dirs.push(cache, ctx);
    const t0 = performance.now();
    const r = await spawnKb(["build", "--cache-dir", cache, "--no-push", "--progress", "plain", "--max-download", "8MiB", ctx], ENV).done;
    const ms = performance.now() - t0;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`Cannot ADD "${origin.url}/endless": the server sent \\d+ bytes and more, more than the download limit of 8388608 bytes`));
    expect(r.err).toContain("--max-download");
    await storeClean(cache);
    record("stalls", "ADD <url>: endless chunked body, --max-download 8MiB", `exit 1 after ${(ms / 1000).toFixed(1)} s, store clean`, r.err.match(/error\[\w+\]: .*/)?.[0].slice(0, 160) ?? "");
  }, 120_000);

  test("KB_MAX_DOWNLOAD sets the same limit, and a declared Content-Length over it fails before reading", async () => {
    const cache = tempDir("kb-stall-cache-");
    const ctx = makeContext({ Dockerfile: `FROM scratch\nADD ${origin.url}/stall /f\n` });
    dirs.push(cache, ctx);
    const r = await spawnKb(["build", "--cache-dir", cache, "--no-push", "--progress", "plain", ctx], { ...ENV, KB_MAX_DOWNLOAD: "1KB" }).done;
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Cannot ADD "${origin.url}/stall": it declares 1048576 bytes, more than the download limit of 1024 bytes`);
    await storeClean(cache);
  }, 120_000);
});
