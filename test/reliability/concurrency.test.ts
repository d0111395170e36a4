// 8 `kb build` processes at once sharing one store and one registry (4 building the same image, 4 different
// ones, all with a RUN): every build succeeds with the right files, and `kb cache verify` is clean afterwards.

import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { cleanup, kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";
import { walkRegistry } from "./_registry-walk.ts";
import { spawnKb } from "../kit/spawn-kb.ts";

const reg = useRegistryWithBusybox();
const dirs: string[] = [];
afterAll(async () => {
  cleanup(...dirs);
});

describe("concurrent builds", () => {
  test("8 `kb build` processes sharing one store and registry all succeed; `kb cache verify` is clean", async () => {
    const cache = tempDir("kb-conc-cache-");
    dirs.push(cache);
    const jobs = Array.from({ length: 8 }, (_, i) => {
      const variant = i < 4 ? "same" : `v${i}`;
      const ctx = makeContext({
        Dockerfile: `FROM ${reg.base}\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy.txt && echo ${variant} > /variant\nCOPY extra.txt /extra.txt\n`,
        "data.txt": `shared base data\n`,
        "extra.txt": `extra ${variant}\n`,
      });
      dirs.push(ctx);
      const ref = `${reg.host}/conc/${i < 4 ? "same" : `img${i}`}:${i < 4 ? `t${i}` : "1"}`;
      return { ref, variant, run: spawnKb(["build", "--cache-dir", cache, "--progress", "plain", "-t", ref, ctx]) };
    });
    const exits = await Promise.all(jobs.map((j) => j.run.done));
    exits.forEach((e, i) => expect({ i, code: e.code, err: e.code ? e.err.slice(-2000) : "" }).toEqual({ i, code: 0, err: "" }));
    for (const j of jobs) {
      const root = unpackFromRegistry(j.ref);
      dirs.push(path.dirname(path.dirname(root)));
      expect(readFileSync(path.join(root, "variant"), "utf8")).toBe(`${j.variant}\n`);
      expect(readFileSync(path.join(root, "copy.txt"), "utf8")).toBe("shared base data\n");
      expect(readFileSync(path.join(root, "extra.txt"), "utf8")).toBe(`extra ${j.variant}\n`);
    }
    const v = await kb(["cache", "verify", "--cache-dir", cache]);
    expect({ code: v.code, err: v.err }).toEqual({ code: 0, err: v.code ? v.err : "" });
    const walk = await walkRegistry(reg.url);
    expect(walk.missing).toEqual([]);
    const again = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", jobs[0].ref, makeContext({
      Dockerfile: `FROM ${reg.base}\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy.txt && echo same > /variant\nCOPY extra.txt /extra.txt\n`,
      "data.txt": "shared base data\n", "extra.txt": "extra same\n",
    })]);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/CACHED RUN cat/);
    record("concurrency", "parallel builds on one store", 8, `all exit 0; verify: ${v.out.trim().split("\n").pop()}; registry walk ${walk.tags} tags, ${walk.missing.length} dangling`);
  }, 300_000);
});
