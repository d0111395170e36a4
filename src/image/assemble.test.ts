import { describe, expect, test } from "bun:test";
import { gzipLayer, randomImage, tarOf, validateImage } from "../../test/kit/random-image.ts";
import { assembleImage, imageFromParts, layerMediaTypeFor } from "./assemble.ts";
import { MediaType, type ImageConfig } from "./types.ts";

const config: ImageConfig = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } };

describe("assembleImage()", () => {
  test("`assembleImage()` makes the same manifest bytes for the same inputs, with ggcr's key order", async () => {
    const a = randomImage({ seed: 7 });
    const b = randomImage({ seed: 7 });
    expect(await a.digest()).toBe(await b.digest());
    const text = new TextDecoder().decode(await a.rawManifest());
    expect(text.startsWith('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":')).toBe(true);
    expect(text).toContain('"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":');
    await validateImage(a);
  });

  test("`assembleImage()` fills rootfs.diff_ids from the layers and maps layer types to docker", async () => {
    const layer = gzipLayer(tarOf({ "a.txt": "a" }));
    const img = assembleImage({ config, layers: [layer], mediaTypes: "docker", annotations: { x: "y" } });
    const m = await img.manifest();
    expect(m.mediaType).toBe(MediaType.DockerManifest);
    expect(m.config.mediaType).toBe(MediaType.DockerConfig);
    expect(m.layers[0].mediaType).toBe(MediaType.DockerLayerGzip);
    expect(m.annotations).toBeUndefined();
    expect((await img.config()).rootfs.diff_ids).toEqual([await layer.diffId()]);
    await validateImage(img);
  });

  test("`layerMediaTypeFor()` refuses zstd in a docker manifest", () => {
    expect(() => layerMediaTypeFor(MediaType.OciLayerZstd, "docker")).toThrow(/zstd needs OCI/);
    expect(layerMediaTypeFor(MediaType.DockerLayerGzip, "oci")).toBe(MediaType.OciLayerGzip);
  });

  test("`imageFromParts()` rejects bytes that are not JSON", () => {
    const bad = new TextEncoder().encode("{nope");
    expect(() => imageFromParts({ manifestBytes: bad, configBytes: bad, layers: [] })).toThrow(/Cannot parse/);
  });
});
