// --single-snapshot (Kaniko's flag) end to end: one layer above busybox in the real registry, the same tree as the
// layer-per-step build when umoci unpacks both, a deleted file's bytes gone from the image, history paired with
// layers, and a rebuild that reuses the squashed layer.

import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { kb, listTree, makeContext, skopeoConfig, skopeoRaw, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";

// As root RUN uses root mode, as anyone else a user namespace: only a machine without them cannot run this.
const skip = spawnSync("unshare", ["--user", "true"]).status !== 0 ? "user namespaces are not allowed here (RUN needs one)" : undefined;
if (skip) console.log(`single-snapshot.test.ts: skipped: ${skip}`);
const reg = useRegistryWithBusybox({ skip });
let cache: string;
beforeAll(() => void (cache = tempDir("kb-cache-")));

const DOCKERFILE = (base: string) => `FROM ${base}
RUN head -c 3000000 /dev/urandom > /big && mkdir -p /opt/app && echo v1 > /opt/app/version
COPY app.txt /opt/app/
RUN rm /big /etc/group && echo v2 > /opt/app/version && ln -s version /opt/app/current
WORKDIR /srv
USER nobody
`;

type Manifest = { layers: { size: number }[] };
type History = { empty_layer?: boolean; created_by?: string }[];

describe.skipIf(!!skip)("kb build --single-snapshot", () => {
  test("one layer above the base, the same tree, the deleted file's bytes gone", async () => {
    const ctx = makeContext({ Dockerfile: DOCKERFILE(reg.base), "app.txt": "app\n" });
    const plain = `${reg.host}/squash/plain:1`;
    const single = `${reg.host}/squash/single:1`;
    expect((await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", plain, ctx])).code).toBe(0);
    const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--single-snapshot", "-t", single, ctx]);
    expect(r.code).toBe(0);
    const base = skopeoRaw(reg.base) as Manifest;
    const a = skopeoRaw(plain) as Manifest;
    const b = skopeoRaw(single) as Manifest;
    expect(a.layers.length).toBe(base.layers.length + 4); // two RUNs, COPY, WORKDIR
    expect(b.layers.length).toBe(base.layers.length + 1);
    const size = (m: Manifest) => m.layers.reduce((n, l) => n + l.size, 0);
    expect(size(a) - size(b)).toBeGreaterThan(2_900_000); // /big was made and deleted: not carried
    const tree = listTree(unpackFromRegistry(single));
    expect(tree).toEqual(listTree(unpackFromRegistry(plain)));
    expect(tree["big"]).toBeUndefined();
    expect(tree["etc/group"]).toBeUndefined();
    expect(tree["opt/app/current"]).toMatchObject({ type: "symlink", link: "version" });
    // every step stays in the history; only the last that made a layer keeps it, so history and layers pair up
    const h = skopeoConfig(single).history as History;
    expect(h.length).toBe((skopeoConfig(plain).history as History).length);
    expect(h.filter((e) => !e.empty_layer).length).toBe(b.layers.length);
    expect(skopeoConfig(single).config).toEqual(skopeoConfig(plain).config);
  }, 120_000);

  test("a rebuild with nothing changed reuses the squashed layer and gives the same layers", async () => {
    const ctx = makeContext({ Dockerfile: DOCKERFILE(reg.base), "app.txt": "app\n" });
    const one = `${reg.host}/squash/again:1`;
    const two = `${reg.host}/squash/again:2`;
    expect((await kb(["build", "--cache-dir", cache, "--progress", "plain", "--single-snapshot", "-t", one, ctx])).code).toBe(0);
    expect((await kb(["build", "--cache-dir", cache, "--progress", "plain", "--single-snapshot", "-t", two, ctx])).code).toBe(0);
    expect((skopeoRaw(two) as { layers: unknown[] }).layers).toEqual((skopeoRaw(one) as { layers: unknown[] }).layers);
  }, 120_000);
});
