// The output loop (engine/outputs): one image or one index goes through every sink (OCI layout, docker archive,
// registry) with the same bytes; a format without writeIndex is refused for several platforms and attestations.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkAttestationOutputs } from "../../src/attest/attach.ts";
import { buildFlags } from "../../src/cli/commands/build-flags.ts";
import { toBuildOptions } from "../../src/cli/commands/build-options.ts";
import { parseFlags } from "../../src/cli/flags.ts";
import { targetPlatforms, writeIndexOutputs } from "../../src/engine/core/multi-platform.ts";
import { writeOutputs } from "../../src/engine/outputs/outputs.ts";
import { isKbError } from "../../src/errors.ts";
import { assembleImage, assembleIndex, MediaType, parsePlatform, parseReference } from "../../src/image/index.ts";
import type { KbEvent } from "../../src/log/events.ts";
import { readDockerArchive, readOciLayout } from "../../src/output/index.ts";
import { fetchManifest, resolveImage } from "../../src/registry/index.ts";
import { gzipLayer, randomImage, tarOf } from "../kit/random-image.ts";
import { must, tempDir } from "../kit/kb.ts";
import { startRegistry, type TestRegistry } from "../kit/registry-server.ts";
import { clientFor } from "../registry/_helpers.ts";

let reg: TestRegistry;
let dir: string;
beforeAll(async () => {
  reg = await startRegistry("http");
  dir = tempDir("kb-outputs-");
});
afterAll(async () => {
  await reg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const options = (...argv: string[]) => toBuildOptions(parseFlags(argv, buildFlags), {});
const events = () => {
  const seen: KbEvent[] = [];
  return { sink: { emit: (e: KbEvent) => void seen.push(e) }, infos: () => seen.flatMap((e) => (e.type === "info" ? [e.message] : [])) };
};
const mk = (architecture: string) =>
  assembleImage({ config: { architecture, os: "linux", rootfs: { type: "layers", diff_ids: [] } }, layers: [gzipLayer(tarOf({ [architecture]: architecture }))], mediaTypes: "oci" });

describe("writeOutputs", () => {
  test("one image: the OCI layout, the docker archive, the registry and the digest file all hold the same digest", async () => {
    const img = randomImage({ seed: 71, layers: 2 });
    const [oci, tar, digestFile, iidFile] = [join(dir, "one-oci"), join(dir, "one.tar"), join(dir, "one.digest"), join(dir, "one.iid")];
    const ref = `${reg.host}/outputs/one:v1`;
    const opts = options("--destination", ref, "--oci-layout-path", oci, "--tar-path", tar, "--digest-file", digestFile, "--iidfile", iidFile);
    const ev = events();
    const out = await writeOutputs(img, opts, clientFor(reg), ev.sink, new AbortController().signal);
    const digest = await img.digest();
    expect(out.digest).toBe(digest);
    expect(out.pushed).toEqual([ref]);
    expect(await (await readOciLayout(oci, "v1")).digest()).toBe(digest);
    expect(await (await readDockerArchive(tar, { tag: ref })).digest()).toBe(digest);
    expect(await (await resolveImage(clientFor(reg), parseReference(ref))).digest()).toBe(digest);
    expect(readFileSync(digestFile, "utf8")).toBe(digest);
    // --iidfile: Docker's image ID, the config digest (what `docker images --no-trunc` and skopeo's config name).
    expect(readFileSync(iidFile, "utf8")).toBe(JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`])).config.digest);
    // Tools kb did not write read each output to the same digest; umoci unpacks the layout.
    const inspect = (loc: string) => JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", loc])).Digest;
    expect([inspect(`oci:${oci}:v1`), inspect(`docker://${ref}`)]).toEqual([digest, digest]);
    must("umoci", ["unpack", "--rootless", "--image", `${oci}:v1`, join(dir, "one-unpacked")]);
    expect(ev.infos().filter((m) => m.startsWith("wrote ")).map((m) => m.replace(/ in [\d.]+s$/, ""))).toEqual([`wrote docker archive ${tar}`, `wrote OCI layout ${oci}`]);
  });

  test("an index: the layout's index and the registry's are byte for byte the bytes assembleIndex made", async () => {
    const images = [mk("amd64"), mk("arm64")];
    const oci = join(dir, "multi-oci");
    const ref = `${reg.host}/outputs/multi:v2`;
    const ev = events();
    const iidFile = join(dir, "multi.iid");
    const out = await writeIndexOutputs(images, options("--destination", ref, "--oci-layout-path", oci, "--iidfile", iidFile), clientFor(reg), ev.sink, new AbortController().signal);
    const expected = await assembleIndex(images.map((image) => ({ image }))).rawManifest();
    const pushed = await fetchManifest(clientFor(reg), parseReference(ref));
    expect(pushed.bytes).toEqual(expected);
    expect(pushed.mediaType).toBe(MediaType.OciIndex);
    expect(out.digest).toBe(pushed.digest);
    expect(readFileSync(iidFile, "utf8")).toBe(pushed.digest); // several platforms: the index's digest, as buildx
    const index = JSON.parse(readFileSync(join(oci, "index.json"), "utf8"));
    expect(index.manifests[0].digest).toBe(pushed.digest);
    expect(readFileSync(join(oci, "blobs/sha256", pushed.digest.slice(7)), "utf8")).toBe(new TextDecoder().decode(expected));
    expect((await (await readOciLayout(oci, "v2", { platform: "linux/arm64" })).config()).architecture).toBe("arm64");
    const raw = (loc: string) => must("skopeo", ["inspect", "--tls-verify=false", "--raw", loc]);
    expect(raw(`oci:${oci}:v2`)).toBe(new TextDecoder().decode(expected));
    expect(raw(`docker://${ref}`)).toBe(new TextDecoder().decode(expected));
    expect(ev.infos().some((m) => m.startsWith(`wrote OCI layout ${oci} (index of 2 platforms) in `))).toBe(true);
  });
});

describe("formats that cannot hold an index", () => {
  test("several platforms into a docker archive is refused before the build, naming the format and its flag", () => {
    const opts = { platforms: ["linux/amd64", "linux/arm64"].map(parsePlatform), outputs: [{ type: "docker" as const, dest: "out.tar" }] };
    let err: unknown;
    try {
      targetPlatforms(opts);
    } catch (e) {
      err = e;
    }
    expect(isKbError(err, "USAGE")).toBe(true);
    expect((err as Error).message).toBe('Cannot write docker archive "out.tar" for 2 platforms (linux/amd64, linux/arm64): a docker archive holds one image per tag');
    expect((err as { hint: string }).hint).toBe("build one --platform per docker archive (--tar-path), or write an OCI layout (--oci-layout-path), which holds an index");
    expect(targetPlatforms({ ...opts, outputs: [{ type: "oci", dest: "out" }] }).length).toBe(2);
  });

  test("attestations into a docker archive are refused; into an OCI layout they are fine", () => {
    const attest = { sbom: {} } as Parameters<typeof checkAttestationOutputs>[0];
    expect(() => checkAttestationOutputs(attest, [{ type: "docker", dest: "a.tar" }])).toThrow(
      'Cannot write docker archive "a.tar" with attestations: a docker archive holds one image per tag and no index, so it has no place for an SBOM or provenance',
    );
    expect(() => checkAttestationOutputs(attest, [{ type: "oci", dest: "d" }, { type: "registry" }])).not.toThrow();
  });
});
