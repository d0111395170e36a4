// scanImage(): packages from every ecosystem, later layers win, whiteouts hide, layer attribution; SPDX shape.

import { describe, expect, test } from "bun:test";
import { assembleImage } from "../../src/image/index.ts";
import { scanImage, spdxDocument, imageSbom } from "../../src/attest/index.ts";
import { parseBuildInfo, readGoBuildInfo } from "../../src/attest/scan-go.ts";
import { rawHeader, tarGzLayer, type RawEntry } from "../kit/hostile-layers.ts";

/** A tar whose file contents are byte strings (latin1), so binary test files keep every byte. */
function rawTar(entries: RawEntry[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.content ?? "", "latin1");
    parts.push(Buffer.from(rawHeader({ ...e, size: body.length })), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

const status = (pkgs: [string, string][]) =>
  pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\nDescription: x\n more text\n`).join("\n");

function image(layers: RawEntry[][]) {
  return assembleImage({
    config: { architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [] } },
    layers: layers.map((l) => tarGzLayer(rawTar(l))),
    mediaTypes: "oci",
  });
}

/** Bytes of a fake ELF holding a Go ≥ 1.18 build-info header with inline strings. */
function goElf(mods: string): string {
  const ver = "go1.22.1";
  const sentinelA = "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
  const sentinelB = "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";
  const mod = `${sentinelA}${mods}${sentinelB}`;
  const header = "\xff Go buildinf:" + "\x08\x02" + "\0".repeat(16);
  return "\x7fELF" + "x".repeat(1000) + header + String.fromCharCode(ver.length) + ver + String.fromCharCode(mod.length) + mod;
}

describe("scanImage()", () => {
  const base: RawEntry[] = [
    { name: "etc/os-release", content: 'ID=debian\nVERSION_ID="12"\n' },
    { name: "var/lib/dpkg/status", content: status([["libc6", "2.36-9"], ["bash", "5.2.15-2"], ["gone", "1.0"]]) },
    { name: "app/node_modules/left-pad/package.json", content: JSON.stringify({ name: "left-pad", version: "1.3.0", license: "WTFPL" }) },
    { name: "app/node_modules/deleted/package.json", content: JSON.stringify({ name: "deleted", version: "9.9.9" }) },
    { name: "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", content: "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody Name: no" },
  ];
  const upper: RawEntry[] = [
    { name: "var/lib/dpkg/status", content: status([["libc6", "2.36-9"], ["bash", "5.2.15-2"], ["curl", "7.88.1-10"]]) },
    { name: "app/node_modules/.wh.deleted" },
    { name: "app/node_modules/@types/node/package.json", content: JSON.stringify({ name: "@types/node", version: "20.1.0", license: "MIT" }) },
    { name: "app/package-lock.json", content: JSON.stringify({ lockfileVersion: 3, packages: { "": { name: "app" }, "node_modules/left-pad": { version: "1.3.0" }, "node_modules/only-locked": { version: "0.1.0", license: "ISC" } } }) },
    { name: "srv/Flask_Cors.egg-info/PKG-INFO", content: "Metadata-Version: 1.1\nName: Flask_Cors\nVersion: 4.0.0\nClassifier: License :: OSI Approved :: MIT License\n" },
    { name: "usr/local/bin/app", mode: 0o755, content: goElf("path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/sys\tv0.15.0\th1:abc=\n") + "y".repeat(600_000) },
  ];

  test("finds dpkg, npm, python and Go packages, respects whiteouts and later layers", async () => {
    const r = await scanImage(image([base, upper]));
    const names = r.packages.map((p) => `${p.type}:${p.namespace ? p.namespace + "/" : ""}${p.name}@${p.version}`).sort();
    expect(names).toEqual([
      "deb:debian/bash@5.2.15-2",
      "deb:debian/curl@7.88.1-10",
      "deb:debian/libc6@2.36-9",
      "golang:example.com/app@(devel)",
      "golang:golang.org/x/sys@v0.15.0",
      "npm:left-pad@1.3.0",
      "npm:only-locked@0.1.0",
      "npm:types/node@20.1.0",
      "pypi:flask-cors@4.0.0",
      "pypi:requests@2.31.0",
    ]);
    const by = new Map(r.packages.map((p) => [p.name, p]));
    expect(by.get("libc6")!.layer).toBe(0); // listed in both databases: came with the base layer
    expect(by.get("curl")!.layer).toBe(1);
    expect(by.get("left-pad")!.layer).toBe(0);
    expect(by.get("requests")!.license).toBe("Apache 2.0");
    expect(by.get("flask-cors")!.license).toBe("MIT License");
    expect(r.distro).toEqual({ id: "debian", versionId: "12" });
  });

  test("a layer scanned once is not read again: the cache gives the same packages", async () => {
    const mem = new Map<string, unknown>();
    const cache = { get: async (d: string) => structuredClone(mem.get(d)) as any, put: async (d: string, s: unknown) => void mem.set(d, structuredClone(s)) };
    const first = await scanImage(image([base, upper]), { cache });
    const second = await scanImage(image([base, upper]), { cache });
    expect(first.walk.layersRead).toBe(2);
    expect(second.walk.layersRead).toBe(0);
    expect(second.packages).toEqual(first.packages);
    expect(second.distro).toEqual(first.distro);
  });

  test("reads Alpine's apk database and distroless dpkg status.d files", async () => {
    const r = await scanImage(image([[
      { name: "etc/os-release", content: 'ID=alpine\nVERSION_ID=3.19.0\n' },
      { name: "lib/apk/db/installed", content: "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nC:Q1def=\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\n\n" },
      { name: "var/lib/dpkg/status.d/tzdata", content: "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n" },
      { name: "var/lib/dpkg/status.d/tzdata.md5sums", content: "abc  usr/share/zoneinfo/UTC\n" },
    ]]));
    const purls = r.packages.map((p) => (p.type === "apk" || p.type === "deb" ? `${p.type}:${p.name}@${p.version}:${p.license ?? ""}` : "")).sort();
    expect(purls).toEqual(["apk:busybox@1.36.1-r15:GPL-2.0-only", "apk:musl@1.2.4-r2:MIT", "deb:tzdata@2024a-0+deb12u1:"]);
    const { purlOf } = await import("../../src/attest/index.ts");
    expect(purlOf(r.packages.find((p) => p.name === "musl")!)).toBe("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.0");
  });

  test("a hardlink to a package file in the same layer counts as that file", async () => {
    const r = await scanImage(image([[
      { name: "a/node_modules/x/package.json", content: JSON.stringify({ name: "x", version: "1.0.0" }) },
      { name: "b/node_modules/x/package.json", type: "1", link: "a/node_modules/x/package.json" },
    ], [{ name: "a/.wh.node_modules" }]]));
    expect(r.packages.map((p) => `${p.name}@${p.version} /${p.path}`)).toEqual(["x@1.0.0 /b/node_modules/x/package.json"]);
  });

  test("an opaque directory hides the lower layer's packages", async () => {
    const r = await scanImage(image([base, [{ name: "app/node_modules/.wh..wh..opq" }]]));
    expect(r.packages.filter((p) => p.type === "npm")).toEqual([]);
  });

  test("an SPDX 2.3 document names purls, licenses, layers and the base image", async () => {
    const img = image([base, upper]);
    const { doc } = (await imageSbom(img, { name: "app:1", created: "2024-01-01T00:00:00Z", tool: "kb-test", base: { ref: "localhost:5000/library/debian:bookworm", digest: `sha256:${"a".repeat(64)}` } })) as any;
    expect(doc.spdxVersion).toBe("SPDX-2.3");
    const pkgs = doc.packages as any[];
    const node = pkgs.find((p) => p.name === "@types/node");
    expect(node.externalRefs[0].referenceLocator).toBe("pkg:npm/%40types/node@20.1.0");
    expect(node.licenseDeclared).toBe("MIT");
    const bash = pkgs.find((p) => p.name === "bash");
    expect(bash.externalRefs[0].referenceLocator).toBe("pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12");
    expect(bash.sourceInfo).toContain("/var/lib/dpkg/status of layer 1 (sha256:");
    const req = pkgs.find((p) => p.name === "requests");
    expect(req.licenseDeclared).toBe("LicenseRef-Apache-2.0");
    expect(doc.hasExtractedLicensingInfos.map((x: any) => x.licenseId)).toContain("LicenseRef-Apache-2.0");
    const baseP = pkgs.find((p) => p.SPDXID === "SPDXRef-base-image");
    expect(baseP.versionInfo).toBe(`sha256:${"a".repeat(64)}`);
    expect(doc.relationships).toContainEqual({ spdxElementId: "SPDXRef-image", relationshipType: "DESCENDANT_OF", relatedSpdxElement: "SPDXRef-base-image" });
    expect(new Set(pkgs.map((p) => p.SPDXID)).size).toBe(pkgs.length);
  });
});

describe("readGoBuildInfo()", () => {
  test("reads the build info of a real Go program (Debian's runc)", async () => {
    const { existsSync, createReadStream } = await import("node:fs");
    const { Readable } = await import("node:stream");
    const runc = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => existsSync(p));
    if (!runc) return console.log("sbom-scan.test.ts: no runc here (apt-get install runc): real Go binary check skipped");
    const info = await readGoBuildInfo(Readable.toWeb(createReadStream(runc)) as unknown as ReadableStream<Uint8Array>);
    expect(info?.goVersion).toMatch(/^go1\.\d+/);
    expect(info?.modinfo).toContain("path\tgithub.com/opencontainers/runc");
  });

  test("skips non-ELF files after the first chunk and rejects a header without inline strings", async () => {
    const notElf = new Blob(["#!/bin/sh\n" + "\xff Go buildinf:"]).stream();
    expect(await readGoBuildInfo(notElf)).toBeUndefined();
    const b = Uint8Array.from("\xff Go buildinf:\x08\x00" + "\0".repeat(40), (c) => c.charCodeAt(0));
    expect(parseBuildInfo(b, 0)).toBeUndefined();
  });
});

test("spdxDocument() is deterministic for the same input", () => {
  const a = spdxDocument({ name: "x", digest: `sha256:${"b".repeat(64)}`, layers: [] }, [], { created: "2024-01-01T00:00:00Z", tool: "kb" });
  const b = spdxDocument({ name: "x", digest: `sha256:${"b".repeat(64)}`, layers: [] }, [], { created: "2024-01-01T00:00:00Z", tool: "kb" });
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
});

describe("scanImage() on a 100k-file image", () => {
  test("remembers only what matters (whiteouts, package files), not the file list", async () => {
    const { createTarStream } = await import("../../src/layer/index.ts");
    const { bytesLayer } = await import("../../src/attest/in-toto.ts");
    const N = 100_000;
    const file = (path: string, body = new Uint8Array(0)) => ({ entry: { path, type: "file" as const, mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0 }, body });
    /** A layer whose tar is generated as it is read: nothing of it is held. */
    const streamedLayer = (gen: () => AsyncGenerator<any>) => {
      const l = bytesLayer(new Uint8Array(0), "application/vnd.oci.image.layer.v1.tar");
      return { ...l, uncompressed: async () => createTarStream(gen()) };
    };
    const big = streamedLayer(async function* () {
      for (let i = 0; i < N; i++) yield file(`usr/share/many/d${i % 100}/f${i}`);
      for (let i = 0; i < 50; i++) yield file(`app/node_modules/p${i}/package.json`, new TextEncoder().encode(JSON.stringify({ name: `p${i}`, version: "1.0.0" })));
    });
    const upper = streamedLayer(async function* () {
      yield file("app/node_modules/.wh.p0");
      yield file("usr/share/many/.wh..wh..opq");
    });
    const img = assembleImage({ config: { architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [] } }, layers: [big, upper] as any, mediaTypes: "oci" });
    const r = await scanImage(img);
    expect(r.walk.entries).toBe(N + 52);
    expect(r.packages.map((p) => p.name).sort()).toEqual(Array.from({ length: 49 }, (_, i) => `p${i + 1}`).sort());
    expect(r.walk.remembered).toBeLessThan(100);
  }, 120_000);
});
