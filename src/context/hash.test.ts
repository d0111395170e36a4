import { expect, test } from "bun:test";
import { chmodSync, utimesSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { makeTree } from "../../test/kit/file-tree.ts";
import { type HashMemo, createMemoryHashMemo, hashSources } from "./hash.ts";
import { resolveSources } from "./sources.ts";

const key = async (dir: string, srcs = ["app"], memo?: HashMemo) => hashSources(await resolveSources(dir, srcs), { memo });

test("`hashSources()` gives the same digest for the same content whatever the mtime", async () => {
  const a = makeTree(["app/main.js=console.log(1)", "app/lib/x.js=x", "app/l -> lib"]);
  const b = makeTree(["app/main.js=console.log(1)", "app/lib/x.js=x", "app/l -> lib"]);
  try {
    utimesSync(path.join(b.dir, "app/main.js"), 1000, 1000);
    expect(await key(a.dir)).toBe(await key(b.dir));
    expect(await key(a.dir)).toMatch(/^sha256:[0-9a-f]{64}$/);
  } finally {
    a.done();
    b.done();
  }
});

test("`hashSources()` changes with one byte, a mode bit, a link target or a name", async () => {
  const t = makeTree(["app/main.js=console.log(1)", "app/l -> main.js"]);
  try {
    const seen = new Set([await key(t.dir)]);
    writeFileSync(path.join(t.dir, "app/main.js"), "console.log(2)");
    seen.add(await key(t.dir));
    chmodSync(path.join(t.dir, "app/main.js"), 0o755);
    seen.add(await key(t.dir));
    const t2 = makeTree(["app/main.js=console.log(2)", "app/l -> other.js"]);
    chmodSync(path.join(t2.dir, "app/main.js"), 0o755);
    seen.add(await key(t2.dir));
    t2.done();
    expect(seen.size).toBe(4);
  } finally {
    t.done();
  }
});

test("`hashSources()` reuses memoised file hashes and notices a changed file", async () => {
  const t = makeTree(["app/big=" + "x".repeat(100_000)]);
  try {
    const memo = createMemoryHashMemo();
    const first = await key(t.dir, ["app"], memo);
    let hits = 0;
    const counting: HashMemo = { get: (k) => { const v = memo.get(k); if (v) hits++; return v; }, set: memo.set };
    expect(await key(t.dir, ["app"], counting)).toBe(first);
    expect(hits).toBe(1);
    writeFileSync(path.join(t.dir, "app/big"), "y".repeat(100_001));
    expect(await key(t.dir, ["app"], counting)).not.toBe(first);
  } finally {
    t.done();
  }
});
