// End to end (issue 14): the same Dockerfile gives the same image. `--reproducible` with empty caches (RUN, COPY
// and ADD: every mtime in every layer clamped), a no-change rebuild with a warm cache, and `-f -` (the
// Dockerfile on standard input, as `docker build -f -`).

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kb, makeContext, must, tempDir, unpackLayout } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { rootlessSkipReason } from "../kit/users.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`same-image.test.ts: RUN cases skipped: ${skip}`);

const reg = useRegistryWithBusybox();

/** A context with RUN (files get real mtimes), COPY and ADD of a tar with recent mtimes. */
function context(extra = ""): string {
  const ctx = makeContext({
    Dockerfile: `FROM ${reg.base}\nCOPY a.txt /app/a.txt\nADD t.tar /app/t/\nRUN mkdir -p /app/run && echo when > /app/run/when && sleep 1 && touch /app/run/later\nWORKDIR /app/w\n${extra}`,
    "a.txt": "a\n",
    "in/x": "x\n",
  });
  must("tar", ["-C", join(ctx, "in"), "-cf", join(ctx, "t.tar"), "x"]);
  return ctx;
}

/** Builds into an OCI layout and returns [digest, layout dir]. */
async function buildOci(ctx: string, cache: string, args: string[], env: Record<string, string> = {}): Promise<[string, string]> {
  const dir = tempDir("kb-out-");
  const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--no-push", "--digest-file", join(dir, "d"), "--output", `type=oci,dest=${dir}/oci`, ...args, ctx], env);
  if (r.code !== 0) throw new Error(r.err.slice(-3000));
  return [readFileSync(join(dir, "d"), "utf8").trim(), join(dir, "oci")];
}

/** The largest mtime (seconds) of any entry in any layer blob of the layout, and the config's times. */
function times(layout: string): { maxMtime: number; created: string[] } {
  const blobs = join(layout, "blobs", "sha256");
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(blobs, index.manifests[0].digest.slice(7)), "utf8"));
  const config = JSON.parse(readFileSync(join(blobs, manifest.config.digest.slice(7)), "utf8"));
  let maxMtime = 0;
  for (const l of manifest.layers as { digest: string }[]) {
    const out = must("tar", ["--numeric-owner", "--full-time", "-tvf", join(blobs, l.digest.slice(7))]);
    for (const line of out.split("\n").filter(Boolean)) {
      const [date, time] = line.split(/\s+/).slice(3, 5);
      maxMtime = Math.max(maxMtime, Date.parse(`${date}T${time}Z`) / 1000);
    }
  }
  return { maxMtime, created: [config.created, ...config.history.map((h: { created?: string }) => h.created)] };
}

describe.skipIf(!!skip)("the same Dockerfile gives the same image", () => {
  test("--reproducible twice with empty caches (RUN, COPY, ADD): same digest, every mtime and created time from SOURCE_DATE_EPOCH", async () => {
    const ctx = context();
    const [d1, l1] = await buildOci(ctx, tempDir("kb-cache-"), ["--reproducible"], { SOURCE_DATE_EPOCH: "1700000000" });
    const [d2] = await buildOci(ctx, tempDir("kb-cache-"), ["--reproducible"], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(d2).toBe(d1);
    const t = times(l1);
    expect(t.maxMtime).toBeLessThanOrEqual(1700000000);
    expect(t.created.slice(0, 1)).toEqual(["2023-11-14T22:13:20Z"]);
    // Without SOURCE_DATE_EPOCH, --reproducible clamps to 0.
    const [z1, lz] = await buildOci(ctx, tempDir("kb-cache-"), ["--reproducible"], { SOURCE_DATE_EPOCH: "" });
    const [z2] = await buildOci(ctx, tempDir("kb-cache-"), ["--reproducible"], { SOURCE_DATE_EPOCH: "" });
    expect(z2).toBe(z1);
    expect(times(lz).maxMtime).toBe(0);
  }, 120_000);

  test("a rebuild with nothing changed and a warm cache gives the same digest; a changed file gives another", async () => {
    const ctx = context();
    const cache = tempDir("kb-cache-");
    const [d1] = await buildOci(ctx, cache, []);
    await Bun.sleep(1100); // a new second: a re-stamped `created` would differ
    const [d2] = await buildOci(ctx, cache, []);
    expect(d2).toBe(d1);
    const [d3] = await buildOci(context("LABEL changed=yes\n"), cache, []);
    expect(d3).not.toBe(d1);
  }, 120_000);
});

describe("kb build -f -", () => {
  test("reads the Dockerfile from standard input (a real process), the context from the directory", () => {
    const ctx = makeContext({ "a.txt": "from ctx", ".dockerignore": "ignored.txt\n", "ignored.txt": "no" });
    const out = tempDir();
    const r = spawnSync(process.execPath, [join(import.meta.dir, "../../src/main.ts"), "build", "--no-push", "--cache-dir", tempDir(), "--output", `type=oci,dest=${out}`, "-f", "-", ctx],
      { input: "FROM scratch\nCOPY . /c/\n", encoding: "utf8" });
    expect(r.stderr).not.toContain("Looked at");
    expect(r.status).toBe(0);
    expect(readdirSync(join(unpackLayout(out, "latest"), "c")).sort()).toEqual([".dockerignore", "a.txt"]);
  });

  test("the context and the Dockerfile cannot both come from standard input", () => {
    const r = spawnSync(process.execPath, [join(import.meta.dir, "../../src/main.ts"), "build", "--no-push", "--cache-dir", tempDir(), "-f", "-", "-"], { input: "", encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("cannot both come from standard input");
  });
});
