// COPY --from reads only what it copies, from the stage's per-layer trees (src/engine/trees/stage-view.ts). The oracle is
// the stage itself: every path copied into scratch must equal the same path of the stage's image, unpacked by umoci
// (deletions, opaque directories, hardlinks, symlinks, owners, modes) — whether kb took the view or the merged tree.

import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, listTree, makeContext, tempDir, unpackFromRegistry, type TreeEntry } from "../kit/kb.ts";
import { rootlessSkipReason } from "../kit/users.ts";

const skip = rootlessSkipReason();
const reg = useRegistryWithBusybox({ skip });

const STAGE = `
RUN mkdir -p /out/d /out/gone && echo a > /out/d/a && echo b > /out/b && echo keep > /out/k && echo x > /out/gone/x && \\
    chmod 0750 /out/d && chown 12:34 /out/k && ln /out/k /out/k-hard && ln -s k /out/k-soft && ln -s /etc /out/abs
RUN rm /out/b && rm -rf /out/d /out/gone && mkdir /out/d && echo c > /out/d/c && echo later > /out/later && ln -s out /link
RUN echo top > /out/d/top && rm /out/later
`;

function sub(t: Record<string, TreeEntry>, prefix: string, to: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  for (const [p, e] of Object.entries(t)) if (p === prefix || p.startsWith(`${prefix}/`)) out[to + p.slice(prefix.length)] = e;
  return out;
}

describe.skipIf(!!skip)("COPY --from a stage", () => {
  test("copies exactly what the stage holds at each source (view or merged tree alike)", async () => {
    const cache = tempDir("kb-cache-");
    const ctx = makeContext({
      Dockerfile: `FROM ${reg.base} AS s\n${STAGE}\nFROM scratch AS out\nCOPY --from=s /out /o\nCOPY --from=s /out/d/ /dd/\n` +
        `COPY --from=s /out/k* /star/\nCOPY --from=s /link/k /via-link\nCOPY --from=s /bin/busybox /bb\n`,
    });
    const stageRef = `${reg.host}/view/stage:1`;
    const outRef = `${reg.host}/view/out:1`;
    for (const [target, ref] of [["s", stageRef], ["out", outRef]] as const) {
      const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--target", target, "-t", ref, ctx]);
      if (r.code !== 0) console.log(r.err);
      expect(r.code).toBe(0);
    }
    const stage = listTree(unpackFromRegistry(stageRef));
    const outRoot = unpackFromRegistry(outRef);
    const got = listTree(outRoot);
    expect(sub(got, "o", "o")).toEqual(sub(stage, "out", "o"));
    expect(Object.keys(sub(got, "o", "o")).sort()).toEqual(["o", "o/abs", "o/d", "o/d/c", "o/d/top", "o/k", "o/k-hard", "o/k-soft"].sort());
    expect(got["o/k"]).toMatchObject({ uid: 12, gid: 34 });
    expect(sub(got, "dd/c", "c")).toEqual(sub(stage, "out/d/c", "c"));
    expect(readdirSync(join(outRoot, "dd")).sort()).toEqual(["c", "top"]);
    expect(Object.keys(got).filter((p) => p.startsWith("star/")).sort()).toEqual(["star/k", "star/k-hard", "star/k-soft"]);
    expect(got["via-link"]).toMatchObject({ type: "file", sha256: stage["out/k"]!.sha256 });
    expect(got["bb"]).toMatchObject({ type: "file", sha256: stage["bin/busybox"]!.sha256 });
    // Only the copy through the symlink /link and the wildcard that matches /out/abs (-> /etc) needed the whole
    // merged tree (one, shared); the others read the layer trees.
    expect(readdirSync(join(cache, "trees")).filter((d) => d.startsWith("merged-"))).toHaveLength(1);
    // Views are kept by stage chain and sources: building again reuses them instead of making new ones.
    const views = () => readdirSync(join(cache, "trees")).filter((d) => d.startsWith("view-")).sort();
    const before = views();
    expect(before).toHaveLength(3); // /out, /out/d/, /bin/busybox; /out/k* matches the absolute symlink /out/abs
    const again = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--target", "out", "-t", outRef, ctx]);
    expect(again.code).toBe(0);
    expect(views()).toEqual(before);
  }, 120_000);

  test("a source missing from the stage is the same clear error as before", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base} AS s\nRUN mkdir /out && rm -rf /out\nFROM scratch\nCOPY --from=s /out/nothing /x\n` });
    const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", "--no-push", ctx]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("/out/nothing");
    expect(r.err).toContain("Dockerfile:4");
  }, 60_000);
});
