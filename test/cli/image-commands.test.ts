import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pushBusyboxIndex } from "../kit/base-images.ts";
import { useRegistry, useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, kbProcess, skopeoInspect, tool } from "./_capture.ts";

const a = useRegistryWithBusybox();
const b = useRegistry();
let single: string;
let multi: string;
let work: string;
let layout: string;
let archive: string;

beforeAll(async () => {
  single = a.base;
  multi = await pushBusyboxIndex(a);
  work = mkdtempSync(path.join(tmpdir(), "kb-cli-images-"));
  // Fixtures written by skopeo, independent of kb: a layout tagged "latest" and a docker-archive.
  layout = path.join(work, "skopeo-oci");
  archive = path.join(work, "bb.tar");
  tool("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${single}`, `oci:${layout}:latest`]);
  tool("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${single}`, `docker-archive:${archive}:example/bb:1`]);
});
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const digestOf = (ref: string) => skopeoInspect("--tls-verify=false", `docker://${ref}`).Digest;
const rawOf = (ref: string) => tool("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);

describe("kb pull", () => {
  test("`kb pull REF --oci DIR` writes a layout skopeo reads under the reference's tag, with the same digest", async () => {
    const dir = path.join(work, "pulled-oci");
    const r = await kb(["pull", single, "--oci", dir, "-q"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(digestOf(single));
    expect(skopeoInspect(`oci:${dir}:latest`).Digest).toBe(r.out.trim());
  });

  test("`kb pull REF` stores blobs, manifest and config, records the pull, and `kb cache verify` finds them intact", async () => {
    const store = path.join(work, "store");
    const r = await kb(["pull", single, "--cache-dir", store, "--digest-file", path.join(work, "pull.digest")]);
    expect(r.code).toBe(0);
    const digest = r.out.trim();
    expect(digest).toBe(digestOf(single));
    expect(readFileSync(path.join(work, "pull.digest"), "utf8")).toBe(digest);
    expect(r.err).toMatch(/pull sha256:[0-9a-f]{12} .* done/); // plain progress lines on stderr
    const manifest = JSON.parse(readFileSync(path.join(store, "blobs/sha256", digest.slice(7)), "utf8"));
    for (const d of [manifest.config.digest, ...manifest.layers.map((l: { digest: string }) => l.digest)]) expect(existsSync(path.join(store, "blobs/sha256", d.slice(7)))).toBe(true);
    const ls = await kb(["cache", "ls", "--cache-dir", store]);
    expect(ls.out).toContain(`${single} (linux/amd64)`);
    const verify = await kb(["cache", "verify", "--cache-dir", store]);
    expect(verify).toMatchObject({ code: 0, out: "checked 3 blobs: all intact\n" });
  });

  test("`kb pull --platform all --oci` keeps every platform of an index", async () => {
    const dir = path.join(work, "all-oci");
    const r = await kb(["pull", multi, "--oci", dir, "--platform", "all", "-q"]);
    expect(r.code).toBe(0);
    const index = JSON.parse(tool("skopeo", ["inspect", "--raw", `oci:${dir}:latest`]));
    expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    const upstream = JSON.parse(rawOf(multi));
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual(upstream.manifests.map((m: { digest: string }) => m.digest));
  });

  test("`kb pull busybox --registry-mirror URL` reads Docker Hub names from the mirror", async () => {
    const dir = path.join(work, "mirrored");
    const r = await kb(["pull", "busybox", "--registry-mirror", `http://${a.host}`, "--oci", dir, "-q"]);
    expect(r.err).toBe("");
    expect(r.out.trim()).toBe(digestOf(single));
    expect(skopeoInspect(`oci:${dir}:latest`).Digest).toBe(r.out.trim());
  });

  test("`kb pull --platform all` without --oci, and a missing reference, are usage errors (exit 2)", async () => {
    expect((await kb(["pull", multi, "--platform", "all"])).code).toBe(2);
    expect((await kb(["pull"])).code).toBe(2);
    const bad = await kb(["pull", single, "--ocii", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("did you mean --oci? (see kb pull --help)");
  });

  test("`kb pull` of a repository that does not exist fails with exit 1 and names it", async () => {
    const r = await kb(["pull", `${a.host}/nothing/here:1`, "--oci", path.join(work, "none")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[REGISTRY_NOT_FOUND\].*nothing\/here/);
  });
});

describe("kb push", () => {
  test("`kb push oci:DIR REF` pushes what skopeo then inspects with the same digest", async () => {
    const dir = path.join(work, "push-src");
    const pulled = (await kb(["pull", single, "--oci", dir, "-q"])).out.trim();
    const dest = `${b.host}/pushed/busybox:v1`;
    const r = await kb(["push", `oci:${dir}:latest`, dest, "--digest-file", path.join(work, "push.digest")]);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(pulled);
    expect(readFileSync(path.join(work, "push.digest"), "utf8")).toBe(pulled);
    expect(digestOf(dest)).toBe(pulled);
  });

  test("`kb push docker-archive:FILE REF` pushes an archive skopeo wrote", async () => {
    const file = archive;
    const dest = `${b.host}/from-archive/bb:1`;
    const r = await kb(["push", `docker-archive:${file}`, dest, "-q"]);
    expect(r.code).toBe(0);
    expect(digestOf(dest)).toBe(r.out.trim());
    const layers = skopeoInspect("--tls-verify=false", `docker://${dest}`).Layers!;
    expect(layers).toEqual(skopeoInspect(`docker-archive:${file}`).Layers!);
    // The RepoTag may be named as written ("example/bb:1") or as skopeo stored it ("docker.io/example/bb:1").
    for (const tag of ["example/bb:1", "docker.io/example/bb:1"]) expect((await kb(["push", `docker-archive:${file}:${tag}`, dest, "-q"])).out).toBe(r.out);
    expect((await kb(["push", `docker-archive:${file}:example/bb:2`, dest])).err).toContain("tags there: docker.io/example/bb:1");
  });

  test("the air-gapped ferry: pull from registry A into a layout, push to registry B, same digests (single and index)", async () => {
    for (const [ref, platform] of [[single, "linux/amd64"], [multi, "all"]] as const) {
      const dir = path.join(work, `ferry-${platform.replace("/", "-")}`);
      const pulled = await kb(["pull", ref, "--oci", dir, "--platform", platform, "-q"]);
      expect(pulled.code).toBe(0);
      const dest = `${b.host}/ferried/${platform === "all" ? "multi" : "single"}:latest`;
      const pushed = await kb(["push", `oci:${dir}`, dest, "-q"]);
      expect(pushed.code).toBe(0);
      expect(pushed.out).toBe(pulled.out);
      expect(digestOf(dest)).toBe(platform === "all" ? digestOf(multi) : digestOf(single));
    }
    expect(rawOf(`${b.host}/ferried/multi:latest`)).toBe(rawOf(multi));
  }, 60_000);

  test("`kb push` usage errors exit 2; a layout without the tag exits 1 and lists the tags", async () => {
    expect((await kb(["push", "oci:x"])).code).toBe(2);
    expect((await kb(["push", "oci:", `${b.host}/x:1`])).code).toBe(2);
    const r = await kb(["push", `oci:${layout}:nope`, `${b.host}/x:1`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('tags there: "latest"');
  });
});

describe("kb inspect", () => {
  test("`kb inspect` of an index lists every platform, then the host platform's details", async () => {
    const r = await kb(["inspect", multi]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Platforms: +linux\/amd64 +sha256:[0-9a-f]{64}/);
    expect(r.out).toMatch(/\n +linux\/arm64 +sha256:[0-9a-f]{64}/);
    expect(r.out).toContain('Cmd:          ["sh"]');
    expect(r.out).toMatch(/Layers \(1, [\d.]+ [kM]B\):\n  sha256:[0-9a-f]{64}/);
    const json = JSON.parse((await kb(["inspect", multi, "--format", "json", "--platform", "linux/arm64"])).out);
    expect(json.platforms.map((p: { platform: string }) => p.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(json.image.platform).toBe("linux/arm64");
    expect(json.image.env[0]).toStartWith("PATH=");
  });

  test("`kb inspect --raw` prints exactly what `skopeo inspect --raw` prints, for an index and an image", async () => {
    for (const ref of [multi, single]) expect((await kb(["inspect", "--raw", ref])).out).toBe(rawOf(ref));
  });

  test("`kb inspect --config` prints the config JSON; oci: and docker-archive: sources work too", async () => {
    const config = JSON.parse((await kb(["inspect", "--config", single])).out);
    expect(config.rootfs.diff_ids).toHaveLength(1);
    const fromLayout = JSON.parse((await kb(["inspect", "--format", "json", `oci:${layout}:latest`])).out);
    expect(fromLayout.digest).toBe(digestOf(single));
    const fromArchive = await kb(["inspect", `docker-archive:${archive}`]);
    expect(fromArchive.code).toBe(0);
    expect(fromArchive.out).toContain(`Media type:   application/vnd.docker.distribution.manifest.v2+json`);
    expect(fromArchive.out).toContain("Layers (1,");
  });

  test("`kb inspect` usage errors exit 2", async () => {
    expect((await kb(["inspect", single, "--format", "yaml"])).code).toBe(2);
    expect((await kb(["inspect", single, "--raw", "--config"])).code).toBe(2);
    expect((await kb(["inspect", "UPPER/case"])).code).toBe(1); // REFERENCE_INVALID
    expect((await kb(["inspect", "--help"])).out).toContain("Usage: kb inspect");
  });
});

describe("kb as a real process", () => {
  test("`bun src/main.ts pull --oci` then `inspect --raw` round-trip, exit codes intact", async () => {
    const dir = path.join(work, "subprocess-oci");
    const pulled = await kbProcess(["pull", single, "--oci", dir, "--progress", "json"]);
    expect(pulled.code).toBe(0);
    expect(pulled.out.trim()).toBe(digestOf(single));
    expect(JSON.parse(pulled.err.split("\n")[0]!)).toMatchObject({ type: "progress", action: "pull" });
    const raw = await kbProcess(["inspect", "--raw", `oci:${dir}:latest`]);
    expect(raw.out).toBe(rawOf(single));
    expect((await kbProcess(["push", "only-one-arg"])).code).toBe(2);
  });
});
