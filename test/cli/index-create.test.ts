// Scale-out across machines: each "runner" (its own store) builds one platform and pushes it by digest, then
// `kb index create` publishes one index over both, as `docker buildx imagetools create` does. Real registry,
// checked with skopeo.

import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kb, makeContext, must, skopeoRaw, tempDir } from "../kit/kb.ts";
import { useRegistry } from "../kit/registry-fixture.ts";

// Real registries and subprocesses: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

const reg = useRegistry();

/** Tags of app (docker-registry answers 404 NAME_UNKNOWN for a repository with blobs and manifests but no tag). */
async function tags(): Promise<string[]> {
  const res = await fetch(`${reg.url}/v2/app/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** One runner: its own store, one platform, pushed by digest; returns the digest from --digest-file. */
async function runner(platform: string, ctx: string): Promise<string> {
  const out = tempDir("kb-runner-");
  const r = await kb(["build", "--cache-dir", tempDir("kb-store-"), "--platform", platform, "--output", `type=registry,name=${reg.host}/app,push-by-digest=true`, "--digest-file", join(out, "digest"), "--image-name-with-digest-file", join(out, "names"), ctx]);
  if (r.code !== 0) console.log(r.err);
  expect(r.code).toBe(0);
  const digest = readFileSync(join(out, "digest"), "utf8");
  expect(readFileSync(join(out, "names"), "utf8")).toBe(`${reg.host}/app@${digest}\n`);
  return digest;
}

describe("push-by-digest + kb index create", () => {
  test("two stores build one platform each, pushed by digest with no tag; the index joins them under one tag", async () => {
    const ctx = makeContext({ Dockerfile: "ARG TARGETARCH\nFROM scratch\nARG TARGETARCH\nCOPY a /a\nLABEL arch=$TARGETARCH\n", a: "hello\n" });
    const amd = await runner("linux/amd64", ctx);
    const arm = await runner("linux/arm64", ctx);
    expect(amd).not.toBe(arm);
    // push-by-digest moved no tag
    expect(await tags()).toEqual([]);

    const digestFile = join(tempDir("kb-index-"), "d");
    const r = await kb(["index", "create", "-t", `${reg.host}/app:1`, "-t", `${reg.host}/app:latest`, "--digest-file", digestFile, `${reg.host}/app@${amd}`, `${reg.host}/app@${arm}`]);
    if (r.code !== 0) console.log(r.err);
    expect(r.code).toBe(0);
    const index = skopeoRaw(`${reg.host}/app:1`) as { mediaType: string; manifests: { digest: string; platform: { os: string; architecture: string } }[] };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => [m.digest, `${m.platform.os}/${m.platform.architecture}`])).toEqual([[amd, "linux/amd64"], [arm, "linux/arm64"]]);
    expect(r.out.trim()).toBe(readFileSync(digestFile, "utf8"));
    expect(skopeoRaw(`${reg.host}/app:latest`)).toEqual(index);
    expect((await tags()).sort()).toEqual(["1", "latest"]);
    // skopeo picks the arm64 image through the index
    const cfg = JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", "--override-arch", "arm64", "--config", `docker://${reg.host}/app:1`])) as { config: { Labels: Record<string, string> } };
    expect(cfg.config.Labels.arch).toBe("arm64");
  });

  test("sources in another repository are copied by digest first; a source index contributes every entry", async () => {
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY b /b\n", b: "b\n" });
    const amd = await runner("linux/amd64", ctx);
    const r = await kb(["index", "create", "-t", `${reg.host}/elsewhere/app:2`, `${reg.host}/app@${amd}`]);
    expect(r.code).toBe(0);
    must("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.host}/elsewhere/app@${amd}`, `oci:${tempDir("kb-copy-")}/l:x`]);
    // an index as a source (the one from the first test) merges with the new image
    const merged = await kb(["index", "create", "-t", `${reg.host}/app:3`, `${reg.host}/app:1`, `${reg.host}/app@${amd}`]);
    expect(merged.code).toBe(0);
    const index = skopeoRaw(`${reg.host}/app:3`) as { manifests: { digest: string }[] };
    expect(index.manifests).toHaveLength(3);
  });

  test("bad input: no -t, no source, an unknown subcommand", async () => {
    const noTag = await kb(["index", "create", `${reg.host}/app:1`]);
    expect(noTag.code).toBe(2);
    expect(noTag.err).toContain("no -t REF");
    const noSrc = await kb(["index", "create", "-t", `${reg.host}/app:9`]);
    expect(noSrc.code).toBe(2);
    const sub = await kb(["index", "rm"]);
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('kb index create');
  });
});
