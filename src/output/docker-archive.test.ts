import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prng, randomImage, tarOf, validateImage } from "../../test/kit/random-image.ts";
import { isKbError } from "../errors.ts";
import { readDockerArchive, writeDockerArchive } from "./docker-archive.ts";
import { readOciLayout, writeOciLayout } from "./oci-layout.ts";
import { sha256Digest } from "../image/digest.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kb-darc-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const tarList = (file: string) => execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n");

describe("docker-archive", () => {
  test("`writeDockerArchive()` then `readDockerArchive()` keeps the image digest and valid bytes", async () => {
    const img = randomImage({ seed: 31, layers: 3 });
    const file = join(dir, "out", "img.tar");
    const desc = await writeDockerArchive(file, img, { tags: ["example.com/app:v1", "example.com/app:latest"] });
    expect(desc.digest).toBe(await img.digest());
    const names = tarList(file);
    expect(names).toContain("manifest.json");
    expect(names).toContain("index.json");
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", file, "manifest.json"], { encoding: "utf8" }));
    expect(manifest[0].RepoTags).toEqual(["example.com/app:v1", "example.com/app:latest"]);
    expect(JSON.parse(execFileSync("tar", ["-xOf", file, "repositories"], { encoding: "utf8" }))).toEqual({ "example.com/app": { v1: expect.any(String), latest: expect.any(String) } });
    const back = await readDockerArchive(file);
    expect(await back.digest()).toBe(await img.digest());
    await validateImage(back);
    expect((await readdir(join(dir, "out")))).toEqual(["img.tar"]);
  });

  test("`writeDockerArchive()` leaves nothing when a layer fails its digest", async () => {
    const img = randomImage({ seed: 2, layers: 1 });
    const [layer] = await img.layers();
    const broken = { ...img, layers: async () => [{ ...layer, compressed: async () => new Blob(["not the layer"]).stream() }] };
    const err = await writeDockerArchive(join(dir, "x.tar"), broken as typeof img, { tags: [] }).catch((e) => e);
    expect(isKbError(err)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  test("`readDockerArchive()` refuses `../` names, missing members, truncation, bad JSON", async () => {
    const evil = join(dir, "evil.tar");
    const src = join(dir, "src");
    execFileSync("mkdir", ["-p", join(src, "a")]);
    await writeFile(join(src, "a", "x"), "x");
    execFileSync("tar", ["-cf", evil, "-C", join(src, "a"), "--transform", "s,^,../,", "x"]);
    await expect(readDockerArchive(evil)).rejects.toThrow(/points outside the archive/);
    const noManifest = join(dir, "nomanifest.tar");
    await writeFile(noManifest, tarOf({ "repositories": "{}" }));
    await expect(readDockerArchive(noManifest)).rejects.toThrow(/member "manifest.json" is missing/);
    const badJson = join(dir, "bad.tar");
    await writeFile(badJson, tarOf({ "manifest.json": "[{" }));
    await expect(readDockerArchive(badJson)).rejects.toMatchObject({ code: "MANIFEST_INVALID" });
    const escape = join(dir, "escape.tar");
    await writeFile(escape, tarOf({ "manifest.json": JSON.stringify([{ Config: "../../etc/passwd", RepoTags: [], Layers: [] }]) }));
    await expect(readDockerArchive(escape)).rejects.toThrow(/points outside/);
    const linkOut = join(dir, "linkout.tar");
    execFileSync("ln", ["-s", "../../etc/passwd", join(src, "a", "l")]);
    execFileSync("tar", ["-cf", linkOut, "-C", join(src, "a"), "l"]);
    await expect(readDockerArchive(linkOut)).rejects.toThrow(/points outside the archive/);
    const good = join(dir, "good.tar");
    await writeDockerArchive(good, randomImage({ seed: 4 }), { tags: ["a:b"] });
    const bytes = await readFile(good);
    await writeFile(join(dir, "trunc.tar"), bytes.subarray(0, bytes.length - 3000));
    await expect(readDockerArchive(join(dir, "trunc.tar"))).rejects.toMatchObject({ code: "MANIFEST_INVALID" });
  });

  test("`readDockerArchive()` reads a classic archive: uncompressed layers behind `<id>/layer.tar` symlinks", async () => {
    const layerTar = tarOf({ "hello.txt": "hi" });
    const diffId = sha256Digest(layerTar);
    const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } });
    const file = join(dir, "classic.tar");
    await writeFile(file, tarOf({
      [`${diffId.slice(7)}.tar`]: layerTar,
      "0123/layer.tar": { symlink: `../${diffId.slice(7)}.tar` },
      [`${sha256Digest(config).slice(7)}.json`]: config,
      "manifest.json": JSON.stringify([{ Config: `${sha256Digest(config).slice(7)}.json`, RepoTags: ["a:b"], Layers: ["0123/layer.tar"] }]),
    }));
    const img = await readDockerArchive(file, { tag: "a:b" });
    const [layer] = await img.layers();
    expect(await layer.digest()).toBe(diffId);
    expect(layer.mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar");
    expect((await img.manifest()).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    await validateImage(img);
    await expect(readDockerArchive(file, { tag: "c:d" })).rejects.toMatchObject({ code: "USAGE", hint: "tags there: a:b" });
  });

  test("`readDockerArchive()` never crashes on random corruption (fixed seed)", async () => {
    const good = await readFile((await (async () => {
      const f = join(dir, "g.tar");
      await writeDockerArchive(f, randomImage({ seed: 8, layers: 1, files: 1, maxFileSize: 200 }), { tags: ["a:b"] });
      return f;
    })()));
    const rnd = prng(7);
    const f = join(dir, "fuzz.tar");
    for (let i = 0; i < 150; i++) {
      const b = new Uint8Array(good);
      for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      await writeFile(f, rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b);
      try {
        const img = await readDockerArchive(f);
        for (const l of await img.layers()) for await (const _ of await l.compressed());
      } catch (e) {
        if (!isKbError(e)) throw e;
      }
    }
  });

  test.skipIf(!has("skopeo"))("skopeo reads kb's archive; kb reads skopeo's archive", async () => {
    const img = randomImage({ seed: 41, layers: 2 });
    const file = join(dir, "kb.tar");
    await writeDockerArchive(file, img, { tags: ["example.com/app:v1"] });
    const out = join(dir, "from-kb");
    execFileSync("skopeo", ["copy", `docker-archive:${file}`, `oci:${out}:x`], { stdio: "pipe" });
    const copied = await readOciLayout(out, "x");
    expect((await copied.config()).rootfs.diff_ids).toEqual((await img.config()).rootfs.diff_ids);
    await validateImage(copied);

    const layout = join(dir, "layout");
    await writeOciLayout(layout, img, { tag: "v1" });
    const skopeoTar = join(dir, "skopeo.tar");
    execFileSync("skopeo", ["copy", `oci:${layout}:v1`, `docker-archive:${skopeoTar}:example.com/app:v1`], { stdio: "pipe" });
    expect(tarList(skopeoTar).some((n) => n.endsWith("/layer.tar"))).toBe(true); // symlinks to <hex>.tar
    const back = await readDockerArchive(skopeoTar);
    expect((await back.config()).rootfs.diff_ids).toEqual((await img.config()).rootfs.diff_ids);
    expect(await back.rawConfig()).toEqual(await img.rawConfig());
    await validateImage(back);
  }, 60_000);
});
