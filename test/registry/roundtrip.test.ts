import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseReference } from "../../src/image/index.ts";
import { fetchManifest, pushImage, resolveImage } from "../../src/registry/index.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { clientFor } from "./_helpers.ts";

const reg = useRegistryWithBusybox();

describe("pushImage() and resolveImage() on a real registry", () => {
  test("pull → push → pull keeps every digest, and mounts across repositories", async () => {
    const client = clientFor(reg);
    const src = await resolveImage(client, parseReference(`${reg.host}/library/busybox`));
    const outcomes: string[] = [];
    const dst = parseReference(`${reg.host}/copies/busybox:v1`);
    const pushed = await pushImage(client, [dst, parseReference(`${reg.host}/copies/busybox:v2`)], src, { onBlob: (_d, o) => outcomes.push(o) });
    expect(pushed.digest).toBe(await src.digest());
    expect(outcomes.filter((o) => o === "mounted").length).toBe(2); // config + layer, no upload
    expect(reg.logs()).toMatch(/POST \/v2\/copies\/busybox\/blobs\/uploads\/\?mount=/);
    for (const tag of ["v1", "v2"]) {
      const back = await resolveImage(client, parseReference(`${reg.host}/copies/busybox:${tag}`));
      expect(await back.digest()).toBe(await src.digest());
      const layers = await back.layers();
      expect(await layers[0].digest()).toBe(await (await src.layers())[0].digest());
      expect(await layers[0].diffId()).toBe((await src.config()).rootfs.diff_ids[0]);
    }
    const again: string[] = [];
    await pushImage(client, [dst], src, { onBlob: (_d, o) => again.push(o) });
    expect(again).toEqual(["exists", "exists"]);
  });

  test("a pushed image passes skopeo inspect, skopeo copy and umoci unpack", async () => {
    const client = clientFor(reg);
    const src = await resolveImage(client, parseReference(`${reg.host}/library/busybox`));
    // Upload (no mount) into a fresh repository by hiding the source hint.
    const layers = await src.layers();
    const plain = {
      rawManifest: () => src.rawManifest(),
      manifest: () => src.manifest(),
      digest: () => src.digest(),
      mediaType: () => src.mediaType(),
      rawConfig: () => src.rawConfig(),
      config: () => src.config(),
      layerByDigest: (d: never) => src.layerByDigest(d),
      layers: async () => layers.map((l) => ({ digest: () => l.digest(), size: () => l.size(), compressed: (s?: AbortSignal) => l.compressed(s) })),
    };
    const outcomes: string[] = [];
    await pushImage(client, [parseReference(`${reg.host}/uploaded/bb:1`)], plain as never, { onBlob: (_d, o) => outcomes.push(o) });
    expect(outcomes.sort()).toEqual(["uploaded", "uploaded"]);
    const inspect = spawnSync("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/uploaded/bb:1`], { encoding: "utf8" });
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout).Digest).toBe(await src.digest());
    const dir = mkdtempSync(path.join(tmpdir(), "kb-umoci-"));
    try {
      const copy = spawnSync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${reg.host}/uploaded/bb:1`, `oci:${dir}/oci:x`], { encoding: "utf8" });
      expect(copy.stderr).toBe("");
      const unpack = spawnSync("umoci", ["unpack", "--rootless", "--image", `${dir}/oci:x`, `${dir}/bundle`], { encoding: "utf8" });
      expect(unpack.stderr).not.toMatch(/error/i);
      expect(spawnSync(`${dir}/bundle/rootfs/bin/busybox`, ["true"]).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("fetchManifest() verifies a pinned digest and reports the media type", async () => {
    const client = clientFor(reg);
    const m = await fetchManifest(client, parseReference(`${reg.host}/library/busybox`));
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const pinned = await fetchManifest(client, parseReference(`${reg.host}/library/busybox@${m.digest}`));
    expect(pinned.digest).toBe(m.digest);
  });
});
