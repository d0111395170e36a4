// Disk amplification (issue 13 item 6): a 2 MB gzip of 2 GiB of zeros is refused at --max-extract with a clear
// error and nothing left behind; a layer costs its size once on disk even when a merged tree of its stage is made
// (the merged tree hardlinks the per-layer trees).

import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { bombLayer, pushHostileImage } from "../kit/hostile-layers.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, makeContext, tempDir } from "../kit/kb.ts";
import { rootlessSkipReason } from "../kit/users.ts";
import { record } from "./_record.ts";

const skip = rootlessSkipReason();
const reg = useRegistryWithBusybox({ skip });

/** Bytes a directory takes on disk (each hardlinked inode once, as du counts it). */
const diskBytes = (dir: string) => Number(execFileSync("du", ["-s", "-B1", dir], { encoding: "utf8" }).split("\t")[0]);

describe.skipIf(!!skip)("extraction is bounded and shared", () => {
  test("a 2 GiB gzip bomb stops at --max-extract with a clear error and leaves no tree", async () => {
    const { layer, compressed } = await bombLayer("zeros", 2 * 2 ** 30);
    expect(compressed).toBeLessThan(3 * 2 ** 20);
    const ref = await pushHostileImage(reg, "bomb/zeros", [layer]);
    const cache = tempDir("kb-cache-");
    const ctx = makeContext({ Dockerfile: `FROM ${ref}\nRUN true\n` });
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--no-push", "--max-extract", "1GiB", ctx]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("--max-extract");
    expect(r.err).toContain("1073741824 bytes");
    expect(r.err).toContain("Dockerfile:2");
    expect(readdirSync(join(cache, "trees"))).toHaveLength(1); // busybox's layer tree; none for the bomb
    expect(readdirSync(join(cache, "tmp")).filter((n) => n.endsWith("-tree"))).toEqual([]);
    const used = diskBytes(cache);
    record("disk", "gzip bomb: 2 GiB of zeros in a 2 MB layer, --max-extract 1GiB", `refused (exit ${r.code}, names --max-extract and Dockerfile:2)`, `${(compressed / 2 ** 20).toFixed(1)} MiB compressed; store after the refused build ${(used / 2 ** 20).toFixed(1)} MiB; no tree kept`);
    expect(used).toBeLessThan(64 * 2 ** 20);
  }, 300_000);

  test("a layer's bytes are on disk once: the merged tree of its stage hardlinks the layer tree", async () => {
    const size = 64 * 2 ** 20;
    const { layer } = await bombLayer("big", size);
    const ref = await pushHostileImage(reg, "bomb/big", [layer]);
    const cache = tempDir("kb-cache-");
    const ctx = makeContext({ Dockerfile: `FROM ${ref} AS s\nRUN true\nFROM ${reg.base}\nRUN --mount=type=bind,from=s,target=/m test -s /m/big\n` });
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--no-push", ctx]);
    if (r.code !== 0) console.log(r.err);
    expect(r.code).toBe(0);
    const trees = readdirSync(join(cache, "trees"));
    expect(trees.filter((t) => t.startsWith("merged-"))).toHaveLength(1);
    const used = diskBytes(join(cache, "trees"));
    record("disk", "64 MiB layer, its layer tree and its stage's merged tree", `${(used / 2 ** 20).toFixed(1)} MiB on disk`, "the merged tree hardlinks the layer tree: the layer's bytes are on disk once");
    expect(used).toBeGreaterThan(size);
    expect(used).toBeLessThan(size * 1.25);
  }, 300_000);
});
