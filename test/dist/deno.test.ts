// The sources run under Deno too (web and node: APIs only; Bun-specific calls sit in src/runtime.ts):
// a COPY-only build to an OCI layout gives the same image as under Bun: the same config, which names every layer
// by the digest of its uncompressed tar (diff_ids). The compressed blobs differ by design: Bun deflates with
// libdeflate, Deno with node:zlib (docs/decisions/131), so the manifest digests are not compared.

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kb, must, tempDir } from "../kit/kb.ts";

const repo = join(import.meta.dir, "../..");
const deno = process.env.DENO ?? join(repo, "node_modules/.bin/deno");
const skip = !existsSync(deno) ? `no deno at ${deno} (npm ci installs it; or set DENO)` : undefined;
if (skip) console.log(`deno.test.ts: skipped: ${skip}`);

/** The config descriptor and the layers' media types of the one image in an OCI layout. */
function imageOf(layout: string): { config: string; layerTypes: string[] } {
  const blob = (d: string) => JSON.parse(readFileSync(join(layout, "blobs/sha256", d.slice("sha256:".length)), "utf8"));
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  expect(index.manifests).toHaveLength(1);
  const manifest = blob(index.manifests[0].digest);
  return { config: manifest.config.digest, layerTypes: manifest.layers.map((l: { mediaType: string }) => l.mediaType) };
}

describe.skipIf(!!skip)("kb under Deno", () => {
  test("`deno run -A src/main.ts build` of examples/hello gives the image Bun gives", async () => {
    const out = tempDir("kb-deno-");
    const env = { ...process.env, SOURCE_DATE_EPOCH: "1700000000" };
    const r = spawnSync(deno, ["run", "-A", "src/main.ts", "build", "--reproducible", "--no-push", "--cache-dir", join(out, "cache-deno"), "--digest-file", join(out, "deno.digest"), "--output", `type=oci,dest=${join(out, "deno-oci")}`, "examples/hello"], { cwd: repo, encoding: "utf8", env });
    if (r.status !== 0) console.log(r.stderr);
    expect(r.status).toBe(0);
    const b = await kb(["build", "--reproducible", "--no-push", "--cache-dir", join(out, "cache-bun"), "--output", `type=oci,dest=${join(out, "bun-oci")}`, join(repo, "examples/hello")], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(b.code).toBe(0);
    expect(readFileSync(join(out, "deno.digest"), "utf8")).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(imageOf(join(out, "deno-oci"))).toEqual(imageOf(join(out, "bun-oci")));
    must("skopeo", ["inspect", `oci:${join(out, "deno-oci")}:latest`]);
  }, 120_000);
});
