import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipLayer, prng, randomImage, tarOf, validateImage } from "../../test/kit/random-image.ts";
import { isKbError } from "../errors.ts";
import { MediaType } from "../image/types.ts";
import { sha256Digest } from "../image/digest.ts";
import { readOciLayout, REF_NAME, writeOciIndex, writeOciLayout } from "./oci-layout.ts";
import { openStore } from "../store/blob-store.ts";
import { putImage } from "../store/store-image.ts";
import { verify } from "../store/maintenance.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kb-oci-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const layout = () => join(dir, "layout");
const readIndex = async () => JSON.parse(await readFile(join(layout(), "index.json"), "utf8"));

async function drain(s: ReadableStream<Uint8Array>) {
  for await (const _ of s);
}

describe("OCI layout", () => {
  test("`writeOciLayout()` then `readOciLayout()` gives the same digests and valid bytes", async () => {
    const img = randomImage({ seed: 11, layers: 3 });
    const desc = await writeOciLayout(layout(), img, { tag: "v1" });
    expect(desc.digest).toBe(await img.digest());
    expect(JSON.parse(await readFile(join(layout(), "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const back = await readOciLayout(layout(), "v1");
    expect(await back.digest()).toBe(await img.digest());
    expect((await back.manifest()).layers).toEqual((await img.manifest()).layers);
    await validateImage(back);
    expect((await readdir(layout())).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
  });

  test("`writeOciLayout()` appends images and replaces an existing tag", async () => {
    const a = randomImage({ seed: 1 });
    const b = randomImage({ seed: 2 });
    await writeOciLayout(layout(), a, { tag: "a" });
    await writeOciLayout(layout(), a, { tag: "latest" });
    await writeOciLayout(layout(), b, { tag: "latest" });
    const index = await readIndex();
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations[REF_NAME])).toEqual(["a", "latest"]);
    expect(await (await readOciLayout(layout(), "latest")).digest()).toBe(await b.digest());
    expect(await (await readOciLayout(layout(), await a.digest())).digest()).toBe(await a.digest());
    await expect(readOciLayout(layout())).rejects.toMatchObject({ code: "USAGE" });
    await expect(readOciLayout(layout(), "nope")).rejects.toMatchObject({ hint: `tags there: "a", "latest"` });
  });

  test("`readOciLayout()` picks the platform from a nested index", async () => {
    const l = gzipLayer(tarOf({ f: "x" }));
    const { assembleImage } = await import("../image/assemble.ts");
    const mk = (arch: string) => assembleImage({ config: { architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [] } }, layers: [l], mediaTypes: "oci" });
    const amd = await writeOciLayout(layout(), mk("amd64"));
    const arm = await writeOciLayout(layout(), mk("arm64"));
    const inner = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [amd, arm] });
    const innerD = sha256Digest(inner);
    await writeFile(join(layout(), "blobs/sha256", innerD.slice(7)), inner);
    const outer = JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciIndex, digest: innerD, size: inner.length }] });
    const outerD = sha256Digest(outer);
    await writeFile(join(layout(), "blobs/sha256", outerD.slice(7)), outer);
    const idx = await readIndex();
    idx.manifests.push({ mediaType: MediaType.OciIndex, digest: outerD, size: outer.length, annotations: { [REF_NAME]: "multi" } });
    await writeFile(join(layout(), "index.json"), JSON.stringify(idx));
    expect((await (await readOciLayout(layout(), "multi", { platform: "linux/arm64" })).config()).architecture).toBe("arm64");
    expect((await (await readOciLayout(layout(), "multi", { platform: { os: "linux", architecture: "amd64" } })).config()).architecture).toBe("amd64");
    await expect(readOciLayout(layout(), "multi", { platform: "linux/s390x" })).rejects.toMatchObject({ code: "PLATFORM_NOT_FOUND" });
  });

  test("`writeOciIndex()` writes a multi-platform image that `readOciLayout()` and skopeo resolve by platform", async () => {
    const { assembleImage } = await import("../image/assemble.ts");
    const l = gzipLayer(tarOf({ f: "x" }));
    const mk = (architecture: string, variant?: string) =>
      assembleImage({ config: { architecture, os: "linux", ...(variant ? { variant } : {}), rootfs: { type: "layers", diff_ids: [] } }, layers: [l], mediaTypes: "oci" });
    const desc = await writeOciIndex(layout(), [mk("amd64"), mk("arm", "v7")], { tag: "multi" });
    expect(desc.mediaType).toBe(MediaType.OciIndex);
    expect((await (await readOciLayout(layout(), "multi", { platform: "linux/arm/v7" })).config()).architecture).toBe("arm");
    expect((await (await readOciLayout(layout(), "multi", { platform: "linux/amd64" })).config()).architecture).toBe("amd64");
    if (has("skopeo")) {
      const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci:${layout()}:multi`], { encoding: "utf8" }));
      expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(["amd64", "arm"]);
    }
  });

  test("a corrupt layout copied into the store leaves nothing half-written there", async () => {
    const img = randomImage({ seed: 6, layers: 2 });
    await writeOciLayout(layout(), img, { tag: "t" });
    const d = (await img.manifest()).layers[1].digest;
    const p = join(layout(), "blobs/sha256", d.slice(7));
    const bytes = await readFile(p);
    bytes[100] ^= 1;
    await writeFile(p, bytes);
    const store = await openStore(join(dir, "store"));
    await expect(putImage(store, await readOciLayout(layout(), "t"))).rejects.toMatchObject({ code: "BLOB_DIGEST_MISMATCH" });
    expect(await store.has(d)).toBe(false);
    expect(await readdir(store.dirs.tmp)).toEqual([]);
    expect((await verify(store)).bad).toEqual([]);
  });

  test("`readOciLayout()` reports a layer blob that fails its digest while streaming", async () => {
    const img = randomImage({ seed: 5, layers: 1 });
    await writeOciLayout(layout(), img, { tag: "t" });
    const d = (await img.manifest()).layers[0].digest;
    const p = join(layout(), "blobs/sha256", d.slice(7));
    const bytes = await readFile(p);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(p, bytes);
    const back = await readOciLayout(layout(), "t");
    const err = await drain(await (await back.layers())[0].compressed()).catch((e) => e);
    expect(isKbError(err, "BLOB_DIGEST_MISMATCH")).toBe(true);
    expect(err.message).toContain(d);
  });

  test("`readOciLayout()` gives clear errors for a missing index.json, invalid JSON, a missing blob", async () => {
    await expect(readOciLayout(join(dir, "none"))).rejects.toThrow(/index.json is missing/);
    await writeOciLayout(layout(), randomImage({ seed: 1 }), { tag: "t" });
    const m = (await readIndex()).manifests[0];
    await rm(join(layout(), "blobs/sha256", m.digest.slice(7)));
    await expect(readOciLayout(layout(), "t")).rejects.toThrow(/missing from OCI layout/);
    await writeFile(join(layout(), "index.json"), "{not json");
    await expect(readOciLayout(layout(), "t")).rejects.toMatchObject({ code: "MANIFEST_INVALID" });
    await writeFile(join(layout(), "index.json"), '{"schemaVersion":2,"manifests":[{"digest":"sha256:../../x"}]}');
    await expect(readOciLayout(layout(), "t")).rejects.toMatchObject({ code: "MANIFEST_INVALID" });
    await writeFile(join(layout(), "index.json"), "[1,2");
    await expect(writeOciLayout(layout(), randomImage({ seed: 1 }), { tag: "t" })).rejects.toMatchObject({ code: "MANIFEST_INVALID" });
  });

  test("`readOciLayout()` survives random corruption of index.json and manifests (fixed seed)", async () => {
    const img = randomImage({ seed: 9, layers: 1, files: 1 });
    await writeOciLayout(layout(), img, { tag: "t" });
    const good = await readFile(join(layout(), "index.json"));
    const rnd = prng(42);
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(good);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      await writeFile(join(layout(), "index.json"), b.subarray(0, Math.floor(rnd() * 4) === 0 ? Math.floor(rnd() * b.length) : b.length));
      try {
        const back = await readOciLayout(layout(), "t");
        for (const l of await back.layers()) await drain(await l.compressed());
      } catch (e) {
        expect(isKbError(e)).toBe(true);
      }
    }
  });

  test.skipIf(!has("skopeo") || !has("umoci"))("skopeo and umoci accept kb's layout; kb reads skopeo's copy", async () => {
    const img = randomImage({ seed: 21, layers: 2 });
    await writeOciLayout(layout(), img, { tag: "v1" });
    const inspect = JSON.parse(execFileSync("skopeo", ["inspect", `oci:${layout()}:v1`], { encoding: "utf8" }));
    expect(inspect.Digest).toBe(await img.digest());
    expect(inspect.Layers).toEqual((await img.manifest()).layers.map((l) => l.digest));
    const bundle = join(dir, "bundle");
    execFileSync("umoci", ["unpack", "--rootless", "--image", `${layout()}:v1`, bundle], { stdio: "pipe" });
    expect(statSync(join(bundle, "rootfs/layer1/dir0/file0.bin")).isFile()).toBe(true);
    expect(existsSync(join(bundle, "config.json"))).toBe(true);
    const copy = join(dir, "skopeo-layout");
    execFileSync("skopeo", ["copy", `oci:${layout()}:v1`, `oci:${copy}:copied`], { stdio: "pipe" });
    const back = await readOciLayout(copy, "copied");
    expect((await back.config()).rootfs.diff_ids).toEqual((await img.config()).rootfs.diff_ids);
    await validateImage(back);
  }, 60_000);
});
