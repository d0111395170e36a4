// SIGINT, SIGTERM and SIGKILL at seeded random points of a build with a RUN and a push: no sandbox or RUN
// process survives, the registry holds no manifest without its blobs, the next build succeeds reusing the
// valid cache, and after `kb cache prune` no temp file is left in the store.

import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { cleanup, kb, makeContext, tempDir } from "../kit/kb.ts";
import { prng } from "../kit/random-image.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { iterations, record, Tally } from "./_record.ts";
import { walkRegistry } from "./_registry-walk.ts";
import { spawnKb, waitNoProcesses } from "../kit/spawn-kb.ts";

const TRIALS = Math.min(iterations(6), 30);
const reg = useRegistryWithBusybox();
const dirs: string[] = [];
afterAll(async () => {
  cleanup(...dirs);
});

describe("interrupted builds", () => {
  test(`${TRIALS} builds killed at seeded points leave no process, no dangling manifest, and the next build succeeds`, async () => {
    const rnd = prng(77);
    const cache = tempDir("kb-int-cache-");
    const tmp = tempDir("kb-int-tmp-");
    dirs.push(cache, tmp);
    const big = randomBytes(4 << 20).toString("base64");
    const tally = new Tally();
    const leftovers: string[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const signal = (["SIGINT", "SIGTERM", "SIGKILL"] as const)[i % 3];
      const delay = 200 + Math.floor(rnd() * 1600);
      const marker = `kb-int-${process.pid}-${i}-${randomBytes(4).toString("hex")}`;
      const ctx = makeContext({
        Dockerfile: `FROM ${reg.base}\nCOPY big.txt /big.txt\nRUN echo ${marker} > /marker && sleep 1 && echo done > /done\nCOPY f /f\n`,
        "big.txt": big,
        f: String(i),
      });
      dirs.push(ctx);
      const ref = `${reg.host}/int/t${i % 4}:${i}`;
      const args = ["build", "--cache-dir", cache, "--progress", "plain", "-t", ref, ctx];
      const env = { KB_TEST_MARKER: marker, TMPDIR: tmp };
      const { child, done } = spawnKb(args, env);
      const timer = setTimeout(() => child.kill(signal), delay);
      const exit = await done;
      clearTimeout(timer);
      const outcome = exit.code === 0 ? "finished first" : `killed (${exit.signal ?? `exit ${exit.code}`})`;
      tally.add(`${signal} ${outcome}`);
      expect(await waitNoProcesses(marker)).toEqual([]);
      if (signal !== "SIGKILL" && exit.code !== 0) expect(exit.err).not.toContain("error[INTERNAL]");
      const walk = await walkRegistry(reg.url);
      expect(walk.missing).toEqual([]);
      const again = await kb(args, env);
      expect({ i, code: again.code, err: again.code ? again.err.slice(-1500) : "" }).toEqual({ i, code: 0, err: "" });
      if (i > 0) expect(again.err).toContain("CACHED COPY big.txt");
      const left = readdirSync(tmp).filter((n) => !n.startsWith(`kb-${process.getuid?.()}`));
      if (left.length) leftovers.push(`${signal}@${delay}ms: ${left.join(" ")}`);
      if (signal !== "SIGKILL") expect({ signal, delay, left }).toEqual({ signal, delay, left: [] });
      cleanup(...left.map((n) => path.join(tmp, n)));
    }
    const pr = await kb(["cache", "prune", "--cache-dir", cache]);
    expect(pr.code).toBe(0);
    expect(readdirSync(path.join(cache, "tmp"))).toEqual([]);
    const v = await kb(["cache", "verify", "--cache-dir", cache]);
    expect(v.code).toBe(0);
    record("interrupt", "builds interrupted", TRIALS, tally.toString());
    record("interrupt", "temp dirs left in TMPDIR after SIGKILL", leftovers.length, leftovers.slice(0, 2).join("; "));
    record("interrupt", "after prune", `store tmp empty; verify: ${v.out.trim().split("\n").pop()}`);
  }, 600_000);
});
