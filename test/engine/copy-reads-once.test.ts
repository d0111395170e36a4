// A COPY that can only miss the cache (first build of that instruction over its parent, or --no-cache) hashes its
// sources while it tars them, one read per file (copy.ts readsOnce). The key it records must be the one the next
// build computes with hashSources: otherwise every second build would miss. Big files (streamed), hard links,
// symlinks, ignored and excluded paths, several sources and a wildcard all go through both ways here.

import { beforeAll, describe, expect, test } from "bun:test";
import { linkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, listTree, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";

const reg = useRegistryWithBusybox();
let cache: string;
beforeAll(() => {
  cache = tempDir("kb-cache-");
});

const DOCKERFILE = (base: string) => `FROM ${base}
COPY --exclude=*.tmp app/ /app/
COPY one.txt *.md /docs/
COPY big.bin /data/big.bin
`;

function context(): string {
  const ctx = makeContext({
    Dockerfile: DOCKERFILE(reg.base),
    ".dockerignore": "app/ignored\n",
    "app/main.txt": "main\n",
    "app/sub/lib.txt": "lib\n",
    "app/skip.tmp": "excluded\n",
    "app/ignored": "ignored\n",
    "app/link": { symlink: "main.txt" },
    "app/exec.sh": { content: "#!/bin/sh\n", mode: 0o755 },
    "one.txt": "one\n",
    "a.md": "a\n",
    "b.md": "b\n",
  });
  linkSync(join(ctx, "app/main.txt"), join(ctx, "app/sub/hard.txt"));
  writeFileSync(join(ctx, "big.bin"), Buffer.alloc(700_000, 7)); // above the 256 KiB one-read size: streamed
  return ctx;
}

const build = (ctx: string, ref: string, ...args: string[]) => kb(["build", "--cache-dir", cache, "--progress", "plain", ...args, "-t", ref, ctx]);
const cachedSteps = (r: { err: string; out: string }) => (r.err + r.out).match(/CACHED COPY/g)?.length ?? 0;

describe("COPY that can only miss hashes while it tars", () => {
  test("the key of a first build (and of --no-cache) is the key the next build looks up", async () => {
    const ctx = context();
    const first = await build(ctx, `${reg.host}/once/a:1`);
    expect(first.code).toBe(0);
    expect(cachedSteps(first)).toBe(0);
    const again = await build(ctx, `${reg.host}/once/a:2`);
    expect(again.code).toBe(0);
    expect(cachedSteps(again)).toBe(3);

    // --no-cache always reads once; what it records is hit by the build after it.
    const cache2 = tempDir("kb-cache-");
    const nc = await kb(["build", "--cache-dir", cache2, "--progress", "plain", "--no-cache", "-t", `${reg.host}/once/b:1`, ctx]);
    expect(nc.code).toBe(0);
    const hit = await kb(["build", "--cache-dir", cache2, "--progress", "plain", "-t", `${reg.host}/once/b:2`, ctx]);
    expect(cachedSteps(hit)).toBe(3);

    const t = listTree(unpackFromRegistry(`${reg.host}/once/a:1`));
    expect(Object.keys(t).filter((p) => p.startsWith("app") || p.startsWith("docs") || p.startsWith("data")).sort()).toEqual([
      "app", "app/exec.sh", "app/link", "app/main.txt", "app/sub", "app/sub/hard.txt", "app/sub/lib.txt", "data", "data/big.bin", "docs", "docs/a.md", "docs/b.md", "docs/one.txt",
    ]);
    expect(t["data/big.bin"]!.size).toBe(700_000);
  });

  test("after a change the next build misses that step only and holds the new bytes", async () => {
    const ctx = context();
    expect((await build(ctx, `${reg.host}/once/c:1`)).code).toBe(0);
    writeFileSync(join(ctx, "b.md"), "b2\n");
    const r = await build(ctx, `${reg.host}/once/c:2`);
    expect(r.code).toBe(0);
    expect(cachedSteps(r)).toBe(1); // app/ hits; docs/ changed; big.bin's step follows a new parent
    const t = listTree(unpackFromRegistry(`${reg.host}/once/c:2`));
    expect(t["docs/b.md"]!.size).toBe(3);
  });
});
