import { describe, expect, test } from "bun:test";
import { gzipLayer, tarOf } from "../../test/kit/random-image.ts";
import { isKbError } from "../errors.ts";
import { assembleImage } from "./assemble.ts";
import { assembleIndex, imageForPlatform, indexFromParts, isImageIndex } from "./assemble-index.ts";
import { sha256Digest } from "./digest.ts";
import { formatPlatform, hostPlatform, parsePlatform, selectPlatform } from "./platform.ts";
import { MediaType, type Descriptor, type Digest } from "./types.ts";

const layer = gzipLayer(tarOf({ f: "x" }));
const mk = (architecture: string, variant?: string, mediaTypes: "oci" | "docker" = "oci") =>
  assembleImage({ config: { architecture, os: "linux", ...(variant ? { variant } : {}), rootfs: { type: "layers", diff_ids: [] } }, layers: [layer], mediaTypes });
const d = (digit: string, platform?: string, mediaType: string = MediaType.OciManifest): Descriptor => {
  const p = platform?.split("/");
  return { mediaType, digest: `sha256:${digit.repeat(64)}` as Digest, size: 1, ...(p ? { platform: { os: p[0], architecture: p[1], ...(p[2] ? { variant: p[2] } : {}) } } : {}) };
};

describe("assembleIndex", () => {
  test("writes an OCI index over images: descriptors with their config's platform, annotations kept, digest over the bytes", async () => {
    const [amd, arm] = [mk("amd64"), mk("arm", "v7")];
    const idx = assembleIndex([{ image: amd }, { image: arm, annotations: { a: "b" } }]);
    const expected = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { mediaType: MediaType.OciManifest, digest: await amd.digest(), size: (await amd.rawManifest()).length, platform: { architecture: "amd64", os: "linux" } },
        { mediaType: MediaType.OciManifest, digest: await arm.digest(), size: (await arm.rawManifest()).length, platform: { architecture: "arm", os: "linux", variant: "v7" }, annotations: { a: "b" } },
      ],
    });
    expect(new TextDecoder().decode(await idx.rawManifest())).toBe(expected);
    expect(await idx.digest()).toBe(sha256Digest(expected));
    expect(await idx.mediaType()).toBe(MediaType.OciIndex);
    expect(await idx.image(await arm.digest())).toBe(arm);
    expect(isImageIndex(idx)).toBe(true);
    expect(isImageIndex(amd)).toBe(false);
  });

  test("is a Docker manifest list when every entry is a Docker manifest, unless an OCI index is asked for", async () => {
    const images = [mk("amd64", undefined, "docker"), mk("arm64", undefined, "docker")];
    expect(await assembleIndex(images.map((image) => ({ image }))).mediaType()).toBe(MediaType.DockerManifestList);
    const oci = assembleIndex(images.map((image) => ({ image })), { mediaType: MediaType.OciIndex });
    expect(await oci.mediaType()).toBe(MediaType.OciIndex);
    expect(JSON.parse(new TextDecoder().decode(await oci.rawManifest())).mediaType).toBe(MediaType.OciIndex);
    expect(await assembleIndex([{ image: images[0]! }, { image: mk("arm64") }]).mediaType()).toBe(MediaType.OciIndex);
  });

  test("takes known descriptors as they are; an entry it cannot open says so", async () => {
    const entries = [d("a", "linux/amd64"), d("b", "linux/arm64")];
    const idx = assembleIndex(entries.map((descriptor) => ({ descriptor })));
    expect(JSON.parse(new TextDecoder().decode(await idx.rawManifest())).manifests).toEqual(entries);
    const err = await idx.image(entries[0]!.digest).catch((e) => e);
    expect(isKbError(err, "MANIFEST_INVALID")).toBe(true);
  });
});

describe("selectPlatform", () => {
  const list = [d("1", "unknown/unknown"), d("2", "linux/amd64"), d("3", "linux/arm/v6"), d("4", "linux/arm/v7"), d("5", "linux/arm64/v8")];

  test("the first entry whose platform matches wins; arm means arm/v7, arm64/v8 is arm64", () => {
    expect(selectPlatform(list, parsePlatform("linux/arm"), "x").digest).toBe(list[3]!.digest);
    expect(selectPlatform(list, parsePlatform("linux/arm64"), "x").digest).toBe(list[4]!.digest);
    expect(selectPlatform(list, { os: "linux", architecture: "x86_64" }, "x").digest).toBe(list[1]!.digest);
  });

  test("without a match, a nested index without a platform is the one to look inside", () => {
    const nested = d("6", undefined, MediaType.OciIndex);
    expect(selectPlatform([list[1]!, nested], parsePlatform("linux/s390x"), "x")).toBe(nested);
  });

  test("no platform asked: the host's, else the first image (never an attestation manifest)", () => {
    const foreign = [d("1", "unknown/unknown"), d("7", "linux/s390x"), d("8", "linux/ppc64le")];
    expect(selectPlatform(foreign, undefined, "x").digest).toBe(foreign[1]!.digest);
    const host = d("9", `linux/${hostPlatform().architecture}`);
    expect(selectPlatform([...foreign, host], undefined, "x")).toBe(host);
  });

  test("a platform asked for and absent is PLATFORM_NOT_FOUND naming what there is (attestations left out)", () => {
    let err: unknown;
    try {
      selectPlatform(list, parsePlatform("linux/s390x"), '"r/app:1"');
    } catch (e) {
      err = e;
    }
    expect(isKbError(err, "PLATFORM_NOT_FOUND")).toBe(true);
    expect((err as Error).message).toBe('Cannot find platform "linux/s390x" in "r/app:1": it has "linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64/v8"');
    expect(() => selectPlatform([d("1", "unknown/unknown")], parsePlatform("unknown/unknown"), "x")).toThrow(/no platform entries/);
    expect(() => selectPlatform([d("1", "unknown/unknown")], undefined, "x")).toThrow(`Cannot find platform "${formatPlatform(hostPlatform())}" in x: it has no platform entries`);
  });
});

describe("imageForPlatform", () => {
  test("follows a nested index to the image of the platform asked for", async () => {
    const [amd, arm] = [mk("amd64"), mk("arm64")];
    const inner = assembleIndex([{ image: amd }, { image: arm }]);
    const outerBytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciIndex, digest: await inner.digest(), size: 1 }] }));
    const outer = indexFromParts({ bytes: outerBytes, image: () => Promise.reject(new Error("not an image")), index: async () => inner });
    expect(await imageForPlatform(outer, parsePlatform("linux/arm64"), "x")).toBe(arm);
    expect(await imageForPlatform(amd, parsePlatform("linux/s390x"), "x")).toBe(amd); // an image is what it is
    await expect(imageForPlatform(outer, parsePlatform("linux/s390x"), "x")).rejects.toMatchObject({ code: "PLATFORM_NOT_FOUND" });
  });
});
