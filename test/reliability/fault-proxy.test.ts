// Pushes and pulls through the fault proxy: every operation ends with a correct image (checked with skopeo
// against the registry directly) or a clear KbError after the retry budget; the store never keeps a corrupt
// blob and the registry never holds a manifest that points at a missing blob.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { KbError } from "../../src/errors.ts";
import { parseReference } from "../../src/image/index.ts";
import { createRegistryClient, pushImage, resolveImage, staticCredentials } from "../../src/registry/index.ts";
import { openStore, putImage, storeImage, verify } from "../../src/store/index.ts";
import { startFaultProxy, type FaultProxy } from "../kit/fault-proxy.ts";
import { cleanup, tempDir } from "../kit/kb.ts";
import { randomImage, validateImage } from "../kit/random-image.ts";
import { useRegistry } from "../kit/registry-fixture.ts";
import { iterations, record, Tally } from "./_record.ts";
import { walkRegistry } from "./_registry-walk.ts";

const OPS = iterations(20) >= 1000 ? 100 : Math.min(iterations(20), 100);
const reg = useRegistry();
let proxy: FaultProxy;
const dirs: string[] = [];

const client = (host: string) =>
  createRegistryClient({ insecure: [host], auth: staticCredentials({}), retryPolicy: { baseMs: 10, maxDelayMs: 300, budgetMs: 5000 }, env: {} });

function skopeoDigest(ref: string): string | undefined {
  const r = spawnSync("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${ref}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function failure(e: unknown, tally: Tally): void {
  if (!(e instanceof KbError)) throw e;
  expect(e.message).toMatch(/^Cannot /);
  tally.add(`failed ${e.code}`);
  if (process.env.KB_RELIABILITY_DEBUG) console.log(e.message);
}

beforeAll(async () => {
  proxy = await startFaultProxy({ upstream: reg.url, seed: 2024, rate: 0.15, stallMs: 800 });
});
afterAll(async () => {
  await proxy?.stop();
  cleanup(...dirs);
});

describe("registry traffic through the fault proxy (seed 2024)", () => {
  test(`${OPS} pushes give the pushed image or a clear error, never a manifest without its blobs`, async () => {
    const c = client(proxy.host);
    const tally = new Tally();
    const pushed: Array<{ tag: string; digest: string }> = [];
    for (let i = 0; i < OPS; i++) {
      const img = randomImage({ seed: 1000 + i, layers: 1 + (i % 3), files: 2, maxFileSize: 64 << 10 });
      const tag = `faults/push${i % 7}:t${i}`;
      try {
        const r = await pushImage(c, [parseReference(`${proxy.host}/${tag}`)], img);
        expect(r.digest).toBe(await img.digest());
        pushed.push({ tag, digest: r.digest });
        tally.add("ok");
      } catch (e) {
        failure(e, tally);
      }
    }
    for (const p of pushed) expect(skopeoDigest(`${reg.host}/${p.tag}`)).toBe(p.digest);
    const walk = await walkRegistry(reg.url);
    expect(walk.missing).toEqual([]);
    record("faults", "pushes", OPS, tally.toString());
    record("faults", "registry walk after pushes", `${walk.tags} tags, ${walk.blobs} blobs, ${walk.missing.length} dangling`);
    expect(pushed.length).toBeGreaterThan(OPS / 2);
  }, 300_000);

  test(`${OPS} pulls into one store give valid images or a clear error, and \`verify()\` finds no corrupt blob`, async () => {
    const direct = client(reg.host);
    const expected: Array<`sha256:${string}`> = [];
    for (let i = 0; i < OPS; i++) {
      const img = randomImage({ seed: 5000 + i, layers: 1 + (i % 3), files: 2, maxFileSize: 64 << 10 });
      await pushImage(direct, [parseReference(`${reg.host}/faults/pull:p${i}`)], img);
      expected.push(await img.digest());
    }
    const storeDir = tempDir("kb-fault-store-");
    dirs.push(storeDir);
    const store = await openStore(storeDir);
    const c = client(proxy.host);
    const tally = new Tally();
    const before = proxy.events.length;
    for (let i = 0; i < OPS; i++) {
      try {
        const img = await resolveImage(c, parseReference(`${proxy.host}/faults/pull:p${i}`), { os: "linux", architecture: "amd64" });
        const d = await putImage(store, img);
        expect(d).toBe(expected[i]);
        await validateImage(await storeImage(store, d));
        tally.add("ok");
      } catch (e) {
        failure(e, tally);
      }
    }
    const v = await verify(store, { remove: false });
    expect(v.bad).toEqual([]);
    const leftovers = readdirSync(store.dirs.tmp).length;
    record("faults", "pulls", OPS, tally.toString());
    record("faults", "store verify after pulls", `${v.checked} blobs checked, ${v.bad.length} corrupt, ${leftovers} temp files`);
    record("faults", "faults injected", proxy.events.length, Object.entries(proxy.counts()).map(([k, n]) => `${k} ${n}`).join(", "));
    expect(proxy.events.length - before).toBeGreaterThan(0);
    expect(tally.counts.get("ok") ?? 0).toBeGreaterThan(OPS / 2);
  }, 300_000);
});
