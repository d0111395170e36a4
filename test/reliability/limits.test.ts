// Resource limits: a full disk under the cache dir (a small tmpfs, as root), very long paths, a context of
// many files walked with bounded memory, and Dockerfile lines at and past the 64 KiB limit.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { walkContext } from "../../src/context/index.ts";
import { MAX_LINE_BYTES } from "../../src/dockerfile/index.ts";
import { cleanup, kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { longMode, record } from "./_record.ts";

const reg = useRegistryWithBusybox();
let cache: string;
const dirs: string[] = [];
beforeAll(async () => {
  cache = tempDir("kb-limits-cache-");
  dirs.push(cache);
});
afterAll(async () => {
  cleanup(...dirs);
});

const build = (ctx: string, ...args: string[]) => kb(["build", "--cache-dir", cache, "--progress", "plain", ...args, ctx]);

describe("resource limits", () => {
  test("a full disk under --cache-dir gives a clear error and leaves no corrupt entry", async () => {
    const mnt = tempDir("kb-limits-tmpfs-");
    dirs.push(mnt);
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt], { encoding: "utf8" });
    if (m.status !== 0) {
      console.log(`skipped: cannot mount a tmpfs (needs root): ${m.stderr.trim()}`);
      return;
    }
    try {
      const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY big.bin /big.bin\n`, "big.bin": randomBytes(6 << 20).toString("latin1") });
      dirs.push(ctx);
      const r = await kb(["build", "--cache-dir", mnt, "--progress", "plain", "--no-push", ctx]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/error\[(?!INTERNAL)\w+\]: Cannot /);
      expect(r.err).toMatch(/space|ENOSPC|full/i);
      const v = await kb(["cache", "verify", "--cache-dir", mnt]);
      expect({ code: v.code, out: v.out }).toMatchObject({ code: 0 });
      const p = await kb(["cache", "prune", "--cache-dir", mnt]);
      expect(p.code).toBe(0);
      expect(readdirSync(path.join(mnt, "tmp"))).toEqual([]);
      record("limits", "disk full (3 MiB tmpfs cache)", r.err.match(/error\[\w+\]: .*/)?.[0].slice(0, 160) ?? "", `verify: ${v.out.trim().split("\n").pop()}; tmp empty after prune`);
    } finally {
      spawnSync("umount", ["-l", mnt]);
    }
  }, 120_000);

  test("paths near PATH_MAX and names of NAME_MAX bytes survive COPY, RUN and the pushed image", async () => {
    const segs = Array.from({ length: 11 }, (_, i) => `${String(i).padStart(2, "0")}${"d".repeat(250)}`);
    const rel = path.join(...segs, `${"f".repeat(251)}.txt`);
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY deep/ /deep/\nRUN find /deep -type f | wc -l > /count && cat "$(find /deep -type f)" > /content\n`, [`deep/${rel}`]: "deep file\n" });
    dirs.push(ctx);
    const ref = `${reg.host}/limits/longpath:1`;
    const r = await build(ctx, "-t", ref);
    expect({ code: r.code, err: r.code ? r.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    const root = unpackFromRegistry(ref);
    dirs.push(path.dirname(path.dirname(root)));
    expect(readFileSync(path.join(root, "deep", rel), "utf8")).toBe("deep file\n");
    expect(readFileSync(path.join(root, "content"), "utf8")).toBe("deep file\n");
    record("limits", "longest path copied", `/deep/${rel}`.length, "bytes (11 components of 252 bytes + a 255-byte name)");
  }, 120_000);

  test("a context of many files is walked with bounded memory", async () => {
    const count = longMode() ? 1_000_000 : 20_000;
    const dir = tempDir("kb-limits-many-");
    dirs.push(dir);
    for (let d = 0; d < count / 500; d++) {
      const sub = path.join(dir, `d${d}`);
      mkdirSync(sub);
      for (let f = 0; f < 500; f++) writeFileSync(path.join(sub, `f${f}`), "");
    }
    Bun.gc(true);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let n = 0;
    for await (const e of walkContext(dir)) {
      if (e.type === "file") n++;
      if (n % 5000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(n).toBe(count);
    const grew = Math.round((peak - rss0) / (1 << 20));
    expect(grew).toBeLessThan(256);
    record("limits", `context walk of ${count} files`, `RSS +${grew} MiB`, `${Math.round(rss0 / (1 << 20))} MiB before`);
  }, 900_000);

  test("a Dockerfile line of 64 KiB builds; one past the limit fails with its line number", async () => {
    const payload = "x".repeat(MAX_LINE_BYTES - 40);
    const ok = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN printf %s ${payload} | wc -c > /len\n` });
    const bad = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN printf %s ${payload}${"y".repeat(100)}\n` });
    dirs.push(ok, bad);
    const ref = `${reg.host}/limits/longline:1`;
    const r = await build(ok, "-t", ref);
    expect({ code: r.code, err: r.code ? r.err.slice(-1500) : "" }).toEqual({ code: 0, err: "" });
    const root = unpackFromRegistry(ref);
    dirs.push(path.dirname(path.dirname(root)));
    expect(readFileSync(path.join(root, "len"), "utf8").trim()).toBe(String(payload.length));
    const b = await build(bad, "--no-push");
    expect(b.code).not.toBe(0);
    expect(b.err).toMatch(/error\[DOCKERFILE_SYNTAX\]: Cannot /);
    expect(b.err).toContain("Dockerfile:2");
    record("limits", "Dockerfile line", `${MAX_LINE_BYTES - 40 + 16} bytes builds`, `${MAX_LINE_BYTES + 76} bytes: ${b.err.match(/error\[\w+\]: [^\n]*/)?.[0].slice(0, 120)}`);
  }, 120_000);
});
