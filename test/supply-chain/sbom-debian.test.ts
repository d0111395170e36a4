// Slow suite: kb builds a Debian bookworm image (apt-get install in RUN) with --sbom; every package that
// `dpkg-query -W` lists inside the image (chroot into umoci's unpack) is in the SBOM with the same version, and the
// document passes the SPDX 2.3 checks of test/supply-chain/_spdx-check.py (license-expression, spec clauses).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { debianBaseUnavailable, pushDebianImage } from "../kit/debian-base.ts";
import { cleanup, kb, makeContext, must, tempDir, umociUnpack } from "../kit/kb.ts";
import { startRegistry, type TestRegistry } from "../kit/registry-server.ts";

const skip = process.env.KB_SLOW_TESTS !== "1" ? "slow suite: set KB_SLOW_TESTS=1 to run it" : debianBaseUnavailable();
if (skip) console.log(`sbom-debian.test.ts: skipped: ${skip}`);

let reg: TestRegistry;
let base = "";
const dirs: string[] = [];
beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry("http");
  base = await pushDebianImage(reg);
}, 600_000);
afterAll(async () => {
  await reg?.stop();
  cleanup(...dirs);
});

describe.skipIf(!!skip)("the SBOM of a Debian image", () => {
  test("lists every package dpkg-query reports inside the image, and passes the SPDX 2.3 checks", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${base}\nRUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*\n` });
    const layout = join(tempDir("kb-deb-oci-"), "l");
    const cache = tempDir("kb-deb-cache-");
    dirs.push(ctx, layout, cache);
    const r = await kb(["build", ctx, "--sbom", "--provenance", "--oci-layout-path", layout, "-t", `${reg.host}/sc/debian-app:1`, "--no-push", "--cache-dir", cache, "--insecure-registry", reg.host]);
    if (r.code !== 0) console.error(r.err);
    expect(r.code).toBe(0);

    // dpkg-query inside the image kb built (umoci unpacks the image skopeo picks from kb's index).
    const host = join(tempDir("kb-deb-host-"), "l");
    const bundle = join(tempDir("kb-deb-b-"), "b");
    dirs.push(host, bundle);
    must("skopeo", ["copy", `oci:${layout}:1`, `oci:${host}:1`]);
    umociUnpack(`${host}:1`, bundle);
    const listed = must("chroot", [join(bundle, "rootfs"), "dpkg-query", "-W", "-f", "${Package}\\t${Version}\\t${Architecture}\\n"]).trim().split("\n").map((l) => l.split("\t"));
    expect(listed.length).toBeGreaterThan(80);
    expect(listed.map((l) => l[0])).toContain("hello");

    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    const blob = (d: string) => readFileSync(join(layout, "blobs", "sha256", d.replace("sha256:", "")));
    const top = JSON.parse(blob(index.manifests[0].digest).toString());
    const att = JSON.parse(blob(top.manifests[1].digest).toString());
    const sbom = JSON.parse(blob(att.layers[0].digest).toString()).predicate;
    const deb = new Map<string, any>(sbom.packages.filter((p: any) => p.externalRefs?.[0]?.referenceLocator.startsWith("pkg:deb/")).map((p: any) => [p.name, p]));
    const missing = listed.filter(([n, v]) => deb.get(n!)?.versionInfo !== v);
    expect(missing).toEqual([]);
    expect(deb.size).toBe(listed.length);
    expect(deb.get("hello").sourceInfo).toContain("layer 2");
    expect(deb.get("bash").sourceInfo).toContain("layer 1");
    expect(deb.get("bash").externalRefs[0].referenceLocator).toMatch(/^pkg:deb\/debian\/bash@[^?]+\?arch=amd64&distro=debian-12$/);

    const docFile = join(tempDir("kb-deb-doc-"), "sbom.json");
    dirs.push(docFile.replace(/\/sbom\.json$/, ""));
    writeFileSync(docFile, JSON.stringify(sbom));
    const check = spawnSync("/usr/bin/python3", [join(import.meta.dir, "_spdx-check.py"), docFile], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toStartWith("OK ");
  }, 600_000);
});
