// sameAsLower and diffUpperDir's `lower` option: unchanged copy-ups (a no-op chmod -R) are left out of a RUN's
// layer, changed entries and their parent directories are kept (BuildKit's overlay differ, continuity's rules).

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, lutimesSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { diffUpperDir } from "./overlay-diff.ts";
import { sameAsLower } from "./same-as-lower.ts";

const base = mkdtempSync(path.join(tmpdir(), "kb-same-lower-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** Two files (upper, lower) written with `a` and `b`, both with mtime `t` seconds. */
function pair(a: string, b: string, t = 1_600_000_000): [string, string] {
  const up = path.join(base, `u${++n}`);
  const lo = path.join(base, `l${n}`);
  writeFileSync(up, a);
  writeFileSync(lo, b);
  utimesSync(up, t, t);
  utimesSync(lo, t, t);
  return [up, lo];
}

describe("sameAsLower()", () => {
  test("a copy-up with the same metadata and bytes is the same; other bytes, size, mode or mtime are not", async () => {
    expect(await sameAsLower(...pair("abc", "abc"), 0o644, false)).toBe(true);
    expect(await sameAsLower(...pair("abc", "abd"), 0o644, false)).toBe(false); // whole-second mtimes: bytes compared
    expect(await sameAsLower(...pair("abc", "abcd"), 0o644, false)).toBe(false);
    const [up, lo] = pair("abc", "abc");
    chmodSync(up, 0o600);
    expect(await sameAsLower(up, lo, 0o600, false)).toBe(false);
    expect(await sameAsLower(up, lo, 0o644, false)).toBe(true); // the true mode given (the snapshot opened it up)
    expect(await sameAsLower(...pair("abc", "abc"), 0o644, true)).toBe(false); // a file capability: kept
    const [u2, l2] = pair("abc", "abc");
    utimesSync(u2, 1_600_000_001, 1_600_000_001);
    expect(await sameAsLower(u2, l2, 0o644, false)).toBe(false);
    expect(await sameAsLower(u2, path.join(base, "missing"), 0o644, false)).toBe(false);
  });

  test("sub-second mtimes that are equal decide without reading (continuity's rule); unequal ones differ", async () => {
    const [up, lo] = pair("abc", "xyz");
    utimesSync(up, 1_600_000_000.5, 1_600_000_000.5);
    utimesSync(lo, 1_600_000_000.5, 1_600_000_000.5);
    expect(await sameAsLower(up, lo, 0o644, false)).toBe(true);
    utimesSync(lo, 1_600_000_000.25, 1_600_000_000.25);
    expect(await sameAsLower(up, lo, 0o644, false)).toBe(false);
  });

  test("directories compare type, mode and owner, not mtime; a symlink compares its target", async () => {
    const d1 = path.join(base, "d1");
    const d2 = path.join(base, "d2");
    mkdirSync(d1);
    mkdirSync(d2);
    utimesSync(d1, 1, 1);
    expect(await sameAsLower(d1, d2, 0o755, false)).toBe(true);
    expect(await sameAsLower(d1, path.join(base, `u${n}`), 0o755, false)).toBe(false); // a file below
    const s1 = path.join(base, "s1");
    const s2 = path.join(base, "s2");
    symlinkSync("target-a", s1);
    symlinkSync("target-b", s2);
    for (const s of [s1, s2]) lutimesSync(s, 1_600_000_000, 1_600_000_000); // as unpacked from a tar
    expect(await sameAsLower(s1, s2, 0o777, false)).toBe(false);
    expect(await sameAsLower(s1, s1, 0o777, false)).toBe(true);
  });
});

describe("diffUpperDir() with the lower layers", () => {
  test("leaves out unchanged copy-ups and writes an unchanged directory only as the parent of a change", async () => {
    const upper = path.join(base, "upper");
    const lower = path.join(base, "lower");
    for (const root of [upper, lower]) {
      mkdirSync(path.join(root, "a"), { recursive: true });
      mkdirSync(path.join(root, "b"), { recursive: true });
      writeFileSync(path.join(root, "a", "same"), "s");
      writeFileSync(path.join(root, "a", "changed"), root === upper ? "new" : "old");
      writeFileSync(path.join(root, "b", "same"), "s");
      for (const f of ["a/same", "a/changed", "b/same"]) utimesSync(path.join(root, f), 1_600_000_000, 1_600_000_000);
    }
    mkdirSync(path.join(upper, "c"));
    writeFileSync(path.join(upper, "c", "added"), "+");
    const lowerOf = async (rel: string) => (rel.startsWith("c") ? undefined : path.join(lower, rel));
    const paths: string[] = [];
    for await (const { entry, body } of diffUpperDir(upper, { xattrs: new Map(), lower: lowerOf })) {
      paths.push(entry.path);
      await body?.cancel();
    }
    expect(paths).toEqual(["a", "a/changed", "c", "c/added"]);
    const all: string[] = [];
    for await (const { entry, body } of diffUpperDir(upper, { xattrs: new Map() })) {
      all.push(entry.path);
      await body?.cancel();
    }
    expect(all).toEqual(["a", "a/changed", "a/same", "b", "b/same", "c", "c/added"]);
  });
});
