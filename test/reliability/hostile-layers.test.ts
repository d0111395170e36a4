// Builds FROM hostile base images (test/kit/hostile-layers.ts), with COPY --from=<image> and with a RUN:
// nothing is ever written outside the build's root (a sentinel directory and the host paths the entries
// name are checked after every build), and each build ends with an image or a clear KbError.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bombLayer, hostileCases, pushHostileImage, rawTar, tarGzLayer } from "../kit/hostile-layers.ts";
import { cleanup, kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { longMode, record } from "./_record.ts";

const reg = useRegistryWithBusybox();
let cache: string;
const escape = mkdtempSync("/tmp/kb-hostile-");
const dirs: string[] = [escape];

/** Every path under `dir` with a hash of its content: the whole state of the sentinel area. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(path.join(dir, rel)).sort()) {
      const p = path.join(rel, n);
      const st = lstatSync(path.join(dir, p));
      out.push(`${p} ${st.mode.toString(8)} ${st.nlink} ${st.isFile() ? createHash("sha256").update(readFileSync(path.join(dir, p))).digest("hex") : ""}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk("");
  return out;
}

beforeAll(async () => {
  cache = tempDir("kb-hostile-cache-");
  dirs.push(cache);
  mkdirSync(path.join(escape, "sentinel"));
  writeFileSync(path.join(escape, "sentinel/secret"), "host secret, must not change\n");
});
afterAll(async () => {
  cleanup(...dirs);
});

const outcome = (r: { code: number; err: string }) => (r.code === 0 ? "image" : (r.err.match(/error\[(\w+)\]/)?.[1] ?? `exit ${r.code}`));

async function buildBoth(name: string, hostile: string, run: string): Promise<{ copy: { code: number; err: string }; run: { code: number; err: string }; copyRef: string; runRef: string }> {
  const copyRef = `${reg.host}/out/${name}-copy:1`;
  const runRef = `${reg.host}/out/${name}-run:1`;
  const a = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY --from=${hostile} / /copied/\n` });
  const b = makeContext({ Dockerfile: `FROM ${hostile}\nRUN ${run}\n` });
  dirs.push(a, b);
  const copy = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", copyRef, a]);
  const runR = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", runRef, b]);
  return { copy, run: runR, copyRef, runRef };
}

describe("hostile base layers", () => {
  const before = () => snapshot(escape);
  const runs: Record<string, string> = {
    "hardlink-out": "cat /hl-abs /hl-rel 2>&1; echo pwned >> /hl-abs; echo pwned >> /hl-rel; true",
    "symlink-root": "ls /evil/ >/dev/null; echo pwned > /evil/written-through-link; true",
    "symlink-out": "echo pwned > /up/written-through-link 2>&1; true",
    "devices-setuid": "ls -l /dev/kbnull /suid /fifo >&2; true",
    duplicates: "cat /dup",
  };
  for (const [name, c] of Object.entries(hostileCases(escape))) {
    test(`a base layer with ${name} entries leaves the host untouched and gives an image or a clear error`, async () => {
      const ref = await pushHostileImage(reg, `hostile/${name}`, [tarGzLayer(rawTar(c.entries, c.truncate))]);
      const snap = before();
      const r = await buildBoth(name, ref, runs[name] ?? "ls / >/dev/null");
      expect(snapshot(escape)).toEqual(snap);
      for (const p of c.hostPaths) expect(existsSync(p)).toBe(false);
      for (const x of [r.copy, r.run]) {
        if (x.code !== 0) expect(x.err).toMatch(/error\[(?!INTERNAL)\w+\]: Cannot /);
      }
      record("hostile", name, `COPY --from: ${outcome(r.copy)}; RUN: ${outcome(r.run)}`, "host sentinel unchanged, named host paths absent");
      if (name === "truncated") expect(r.copy.code).not.toBe(0);
      if (name === "duplicates" && r.run.code === 0) {
        expect(readFileSync(path.join(unpackFromRegistry(r.runRef), "dup"), "utf8")).toBe("second\n");
      }
      if (name === "absolute" && r.copy.code === 0) {
        const root = unpackFromRegistry(r.copyRef);
        expect(readFileSync(path.join(root, "copied", escape, "absolute"), "utf8")).toBe("absolute\n");
      }
    }, 120_000);
  }

  test("a decompression bomb is streamed: the build finishes and the file has its full size", async () => {
    const size = longMode() ? 1 << 30 : 64 << 20;
    const { layer, compressed } = await bombLayer("bomb", size);
    const ref = await pushHostileImage(reg, "hostile/bomb", [layer]);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    const r = await buildBoth("bomb", ref, "wc -c /bomb > /bomb-size; rm /bomb").finally(() => clearInterval(sampler));
    const grew = Math.round((peak - rss0) / (1 << 20));
    expect(grew).toBeLessThan(256);
    expect(r.run.err).not.toContain("INTERNAL");
    expect(r.run.code).toBe(0);
    expect(readFileSync(path.join(unpackFromRegistry(r.runRef), "bomb-size"), "utf8").trim()).toBe(`${size} /bomb`);
    record("hostile", "decompression bomb", `${size >> 20} MiB from a ${Math.round(compressed / 1024)} KiB blob (×${Math.round(size / compressed)})`, `COPY --from: ${outcome(r.copy)}; RUN: ${outcome(r.run)}; peak RSS of the in-process builds +${grew} MiB`);
  }, 300_000);
});
