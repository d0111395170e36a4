// End to end: kb build --sbom --provenance on a real busybox base, pushed to the real registry and written as
// an OCI layout; the index and attestation manifest read back with skopeo and umoci; no secret value anywhere.

import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { cleanup, kb, makeContext, must, skopeoRaw, tempDir } from "../kit/kb.ts";

const isRoot = process.getuid?.() === 0;
const SECRET = "kb-secret-Zq81-never-in-output";
const reg = useRegistryWithBusybox();
const dirs: string[] = [];
afterAll(async () => {
  cleanup(...dirs);
});

const CONTEXT = (from: string) => ({
  Dockerfile: `FROM ${from}\nARG VERSION=0\nCOPY app /app\n${isRoot ? "RUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo $VERSION > /version\n" : ""}`,
  "app/package-lock.json": JSON.stringify({ name: "app", lockfileVersion: 3, packages: { "": { name: "app" }, "node_modules/express": { version: "4.18.2", license: "MIT" }, "node_modules/@babel/core": { version: "7.23.0", license: "MIT" } } }),
  "app/node_modules/express/package.json": JSON.stringify({ name: "express", version: "4.18.2", license: "MIT" }),
  "app/node_modules/@babel/core/package.json": JSON.stringify({ name: "@babel/core", version: "7.23.0", license: "MIT" }),
  "app/node_modules/express/lib/package.json": JSON.stringify({ name: "not-a-package-root", version: "0" }),
  "app/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache-2.0\n",
  "app/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\nLicense: MIT\n",
});

const blob = (layout: string, d: string) => readFileSync(join(layout, "blobs", "sha256", d.replace("sha256:", "")));
const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

function grepTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const b = readFileSync(p);
        let plain: Buffer | undefined;
        try {
          plain = b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : undefined;
        } catch {}
        if (b.includes(needle) || plain?.includes(needle)) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}

describe("kb build --sbom --provenance", () => {
  test("pushes and writes an index with the image and a BuildKit-style attestation manifest", async () => {
    const ctx = makeContext(CONTEXT(reg.base));
    const layout = join(tempDir("kb-oci-"), "layout");
    const cache = tempDir("kb-cache-");
    const inputs = tempDir("kb-sc-in-"); // the secret's own file: not searched
    const secretFile = join(inputs, "tok");
    writeFileSync(secretFile, SECRET);
    dirs.push(ctx, layout, cache, inputs);
    const ref = `${reg.host}/sc/app:1`;
    const r = await kb(["build", ctx, "-t", ref, "--sbom", "--provenance=mode=max", "--oci-layout-path", layout, "--cache-dir", cache, "--insecure-registry", reg.host, "--build-arg", "VERSION=1.2.3", "--secret", `id=tok,src=${secretFile}`, "--progress", "plain", "--report", join(cache, "report.json")]);
    expect(r.err + r.out).not.toContain(SECRET);
    if (r.code !== 0) console.error(r.err);
    expect(r.code).toBe(0);
    expect(r.err + r.out).toMatch(/SBOM of linux\/amd64: \d+ packages/);
    // The cost is in the build report: the wait at the end, and the base layers scanned while the build ran.
    const timings = JSON.parse(readFileSync(join(cache, "report.json"), "utf8")).timings;
    expect(timings.sbom).toBeGreaterThanOrEqual(0);
    expect(timings["sbom: base layers scanned during the build"]).toBeGreaterThan(0);
    expect(timings.provenance).toBeGreaterThanOrEqual(0);

    // skopeo reads the index kb pushed: the image and the attestation manifest.
    const index = skopeoRaw(ref) as { mediaType: string; manifests: { digest: string; platform: { os: string; architecture: string }; annotations?: Record<string, string> }[] };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests).toHaveLength(2);
    const [img, att] = index.manifests as [typeof index.manifests[0], typeof index.manifests[0]];
    expect(img.platform.os).toBe("linux");
    expect(att.platform).toEqual({ architecture: "unknown", os: "unknown" });
    expect(att.annotations).toEqual({ "vnd.docker.reference.digest": img.digest, "vnd.docker.reference.type": "attestation-manifest" });
    const attManifest = skopeoRaw(`${reg.host}/sc/app@${att.digest}`) as { layers: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    expect(attManifest.layers.map((l) => [l.mediaType, l.annotations["in-toto.io/predicate-type"]])).toEqual([
      ["application/vnd.in-toto+json", "https://spdx.dev/Document"],
      ["application/vnd.in-toto+json", "https://slsa.dev/provenance/v1"],
    ]);

    // The layout holds the same index, byte for byte.
    const top = json(readFileSync(join(layout, "index.json"))).manifests[0];
    expect(top.digest).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(JSON.stringify(index)).digest("hex")}`);
    const sbom = json(blob(layout, attManifest.layers[0]!.digest));
    expect(sbom.subject[0].digest.sha256).toBe(img.digest.replace("sha256:", ""));
    const purls = sbom.predicate.packages.flatMap((p: any) => (p.externalRefs ?? []).map((e: any) => e.referenceLocator)).sort();
    expect(purls).toEqual(expect.arrayContaining(["pkg:npm/%40babel/core@7.23.0", "pkg:npm/express@4.18.2", "pkg:pypi/pyyaml@6.0.1", "pkg:pypi/requests@2.31.0"]));
    expect(purls.filter((p: string) => p.startsWith("pkg:npm/"))).toHaveLength(2);
    const baseDigest = JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.base}`])).Digest as string;
    expect(sbom.predicate.packages.find((p: any) => p.SPDXID === "SPDXRef-base-image").versionInfo).toBe(baseDigest);

    // The SPDX 2.3 checks of _spdx-check.py (license-expression + spec clauses) pass, and fail on a broken copy.
    const docDir = tempDir("kb-sc-doc-");
    dirs.push(docDir);
    writeFileSync(join(docDir, "ok.json"), JSON.stringify(sbom.predicate));
    const checkDoc = (f: string) => spawnSync("/usr/bin/python3", [join(import.meta.dir, "_spdx-check.py"), join(docDir, f)], { encoding: "utf8" });
    expect(checkDoc("ok.json").stdout).toStartWith("OK ");
    const broken = structuredClone(sbom.predicate);
    broken.packages[2].licenseDeclared = "MIT License";
    broken.relationships.push({ spdxElementId: "SPDXRef-image", relationshipType: "CONTAINS", relatedSpdxElement: "SPDXRef-nowhere" });
    writeFileSync(join(docDir, "broken.json"), JSON.stringify(broken));
    const bad = checkDoc("broken.json");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("MIT License");
    expect(bad.stdout).toContain("SPDXRef-nowhere");

    const prov = json(blob(layout, attManifest.layers[1]!.digest));
    expect(prov.predicate.buildDefinition.resolvedDependencies.map((d: any) => `sha256:${d.digest.sha256}`)).toContain(baseDigest);
    expect(prov.predicate.buildDefinition.externalParameters.request.args["build-arg:VERSION"]).toBe("1.2.3");
    expect(prov.predicate.buildDefinition.externalParameters.configSource.digest.sha256).toBe(new Bun.CryptoHasher("sha256").update(readFileSync(join(ctx, "Dockerfile"))).digest("hex"));

    // skopeo copies the whole index; umoci unpacks the image skopeo selects from kb's layout. (umoci 0.4.7 itself
    // calls any tag whose index reaches two manifests "ambiguous", BuildKit's layouts with attestations included.)
    const copy = tempDir("kb-copy-");
    dirs.push(copy);
    must("skopeo", ["copy", "--all", "--src-tls-verify=false", `docker://${ref}`, `oci:${copy}/l:1`]);
    expect(json(readFileSync(join(copy, "l", "index.json"))).manifests).toHaveLength(1);
    const bundle = join(tempDir("kb-umoci-"), "b");
    dirs.push(bundle);
    const umociErr = Bun.spawnSync(["umoci", "unpack", "--rootless", "--image", `${layout}:1`, bundle]).stderr.toString();
    expect(umociErr).toContain("ambiguous");
    must("skopeo", ["copy", `oci:${layout}:1`, `oci:${copy}/host:1`]);
    must("umoci", ["unpack", "--rootless", "--image", `${copy}/host:1`, bundle]);
    expect(readFileSync(join(bundle, "rootfs", "app", "node_modules", "express", "package.json"), "utf8")).toContain("4.18.2");

    // No secret value in any blob kb wrote, in the layout or the registry.
    expect(grepTree(layout, SECRET)).toEqual([]);
    expect(grepTree(reg.dataDir, SECRET)).toEqual([]);
    expect(grepTree(cache, SECRET)).toEqual([]);
  }, 120_000);

  test("--sbom=all-stages, --attest type=provenance, --reproducible and --sign-key; kb inspect --attestations lists them", async () => {
    const ctx = makeContext({
      ...CONTEXT(reg.base),
      Dockerfile: `FROM ${reg.base} AS deps\nCOPY app/node_modules /deps/node_modules\nFROM ${reg.base}\nCOPY --from=deps /deps/node_modules/express /app/node_modules/express\n`,
    });
    const work = tempDir("kb-sc2-");
    dirs.push(ctx, work);
    expect((await kb(["key", "generate", "--output-key-prefix", join(work, "cosign")], { COSIGN_PASSWORD: "pw" })).code).toBe(0);
    const ref = `${reg.host}/sc/stages:1`;
    const r = await kb(["build", ctx, "-t", ref, "--sbom=all-stages", "--attest", "type=provenance,mode=min", "--reproducible", "--sign-key", join(work, "cosign.key"), "--cache-dir", join(work, "cache"), "--insecure-registry", reg.host], { COSIGN_PASSWORD: "pw", SOURCE_DATE_EPOCH: "1700000000" });
    if (r.code !== 0) console.error(r.err);
    expect(r.code).toBe(0);
    expect((await kb(["verify", ref, "--key", join(work, "cosign.pub"), "--insecure-registry", reg.host])).code).toBe(0);

    const ins = await kb(["inspect", ref, "--attestations", "--insecure-registry", reg.host]);
    expect(ins.code).toBe(0);
    expect(ins.out).toContain("https://spdx.dev/Document");
    expect(ins.out).toContain("https://slsa.dev/provenance/v1");
    const list = JSON.parse((await kb(["inspect", ref, "--attestations", "--format", "json", "--insecure-registry", reg.host])).out) as any[];
    expect(list.map((a) => a.predicateType)).toEqual(["https://spdx.dev/Document", "https://spdx.dev/Document", "https://slsa.dev/provenance/v1"]);
    const [finalSbom, stageSbom, prov] = list.map((a) => a.statement);
    const npm = (doc: any) => doc.predicate.packages.filter((p: any) => p.externalRefs?.[0]?.referenceLocator.startsWith("pkg:npm/")).map((p: any) => p.name).sort();
    expect(npm(finalSbom)).toEqual(["express"]);
    expect(npm(stageSbom)).toEqual(["@babel/core", "express"]);
    expect(stageSbom.predicate.name).toBe("sbom-stage deps");
    expect(prov.predicate.runDetails.metadata.startedOn).toBe("2023-11-14T22:13:20Z");
    expect(prov.predicate.runDetails.metadata.finishedOn).toBe("2023-11-14T22:13:20Z");
    expect(finalSbom.predicate.creationInfo.created).toBe("2023-11-14T22:13:20Z");
    expect(prov.predicate.runDetails.byproducts).toBeUndefined();
  }, 120_000);

  test("a multi-platform build carries one attestation manifest per platform, each naming its image", async () => {
    const ctx = makeContext({ ...CONTEXT(reg.base), Dockerfile: "FROM scratch\nCOPY app /app\n" });
    const layout = join(tempDir("kb-oci-mp-"), "layout");
    dirs.push(ctx, layout);
    const ref = `${reg.host}/sc/multi:1`;
    const r = await kb(["build", ctx, "-t", ref, "--platform", "linux/amd64,linux/arm64", "--sbom", "--provenance", "--oci-layout-path", layout, "--cache-dir", join(layout, "..", "cache"), "--insecure-registry", reg.host]);
    if (r.code !== 0) console.error(r.err);
    expect(r.code).toBe(0);
    const index = skopeoRaw(ref) as { manifests: { digest: string; platform: { os: string; architecture: string }; annotations?: Record<string, string> }[] };
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(["linux/amd64", "unknown/unknown", "linux/arm64", "unknown/unknown"]);
    expect(index.manifests[1]!.annotations!["vnd.docker.reference.digest"]).toBe(index.manifests[0]!.digest);
    expect(index.manifests[3]!.annotations!["vnd.docker.reference.digest"]).toBe(index.manifests[2]!.digest);
    const list = JSON.parse((await kb(["inspect", `oci:${layout}:1`, "--attestations", "--format", "json"])).out) as any[];
    expect(list.map((a) => `${a.platform} ${a.predicateType}`)).toEqual([
      "linux/amd64 https://spdx.dev/Document", "linux/amd64 https://slsa.dev/provenance/v1",
      "linux/arm64 https://spdx.dev/Document", "linux/arm64 https://slsa.dev/provenance/v1",
    ]);
    const arm = list[3].statement;
    expect(arm.subject[0].name).toBe(`pkg:docker/${reg.host}/sc/multi@1?platform=linux%2Farm64`);
    expect(arm.predicate.buildDefinition.externalParameters.request.args.platform).toBe("linux/arm64");
    const copy = tempDir("kb-copy-mp-");
    dirs.push(copy);
    must("skopeo", ["copy", "--all", "--src-tls-verify=false", `docker://${ref}`, `oci:${copy}/l:1`]);
  }, 120_000);

  test("kb push of an attested OCI layout carries the attestation manifests too", async () => {
    const ctx = makeContext({ ...CONTEXT(reg.base), Dockerfile: `FROM ${reg.base}\nCOPY app/package-lock.json /app/\n` });
    const layout = join(tempDir("kb-oci-push-"), "layout");
    dirs.push(ctx, layout);
    const r = await kb(["build", ctx, "--sbom", "--oci-layout-path", layout, "-t", "app:1", "--no-push", "--cache-dir", join(layout, "..", "cache"), "--insecure-registry", reg.host]);
    expect(r.code).toBe(0);
    const dest = `${reg.host}/sc/pushed:1`;
    const p = await kb(["push", `oci:${layout}:1`, dest, "--insecure-registry", reg.host]);
    expect(p.err).not.toContain("error");
    expect(p.code).toBe(0);
    const list = JSON.parse((await kb(["inspect", dest, "--attestations", "--format", "json", "--insecure-registry", reg.host])).out) as any[];
    expect(list.map((a) => a.predicateType)).toEqual(["https://spdx.dev/Document"]);
    expect(list[0].summary).toContain("npm 2");
    const pulled = join(tempDir("kb-oci-pull-"), "l");
    dirs.push(pulled);
    expect((await kb(["pull", dest, "--platform", "all", "--oci", pulled, "--insecure-registry", reg.host])).code).toBe(0);
    const again = JSON.parse((await kb(["inspect", `oci:${pulled}:1`, "--attestations", "--format", "json"])).out) as any[];
    expect(again.map((a) => [a.predicateType, a.for])).toEqual(list.map((a) => [a.predicateType, a.for]));
  }, 60_000);

  test("a docker archive output with attestations fails before building, saying why", async () => {
    const ctx = makeContext(CONTEXT(reg.base));
    dirs.push(ctx);
    const r = await kb(["build", ctx, "--sbom", "--tar-path", join(ctx, "out.tar"), "--insecure-registry", reg.host]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("a docker archive holds one image per tag and no index");
    expect(r.err).toContain("--oci-layout-path");
  });
});
