// unlockTree/relockTree: the helper's output format (malformed input, fixed-seed fuzz) and real runs in a
// single-id user namespace (0 → the caller); the subuid-range case is in src/snapshot/upper-snapshot.test.ts.

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KbError } from "../errors.ts";
import { singleIdMapping } from "./ids.ts";
import { parseUnlockOutput, relockTree, unlockTree } from "./tree-access.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("`parseUnlockOutput()` decodes path/octal-mode pairs, setuid bits included", () => {
  const m = parseUnlockOutput(enc("d\x00700\0d/f\x00600\0suid\x004710\0.\x000\0"));
  expect([...m]).toEqual([["d", 0o700], ["d/f", 0o600], ["suid", 0o4710], [".", 0]]);
  expect(parseUnlockOutput(new Uint8Array(0)).size).toBe(0);
});

test("`parseUnlockOutput()` rejects truncated output, empty paths and modes that are not octal", () => {
  expect(() => parseUnlockOutput(enc("d\x00700"))).toThrow("truncated");
  expect(() => parseUnlockOutput(enc("d\0"))).toThrow("truncated");
  expect(() => parseUnlockOutput(enc("d\x00789\0"))).toThrow("is not an octal mode");
  expect(() => parseUnlockOutput(enc("d\x0017777\0"))).toThrow("is not an octal mode");
  expect(() => parseUnlockOutput(enc("\x00700\0"))).toThrow(KbError);
});

test("`parseUnlockOutput()` never crashes on random bytes (fixed seed, 2000 cases)", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const alphabet = [0, 0, 0x30, 0x37, 0x38, 0x2e, 0x2f, 0x61, 0xff];
  for (let i = 0; i < 2000; i++) {
    const b = new Uint8Array(Math.floor(rnd() * 30)).map(() => alphabet[Math.floor(rnd() * alphabet.length)]!);
    try {
      for (const [, mode] of parseUnlockOutput(b)) expect(mode).toBeLessThanOrEqual(0o7777);
    } catch (e) {
      expect(e).toBeInstanceOf(KbError);
    }
  }
});

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const base = mkdtempSync(path.join(tmpdir(), "kb-tree-access-"));
// The tests leave mode-000 files and 0300 dirs: as a user who is not root, rm needs them opened first.
afterAll(() => (spawnSync("chmod", ["-R", "u+rwx", base]), rmSync(base, { recursive: true, force: true })));

test("`unlockTree()` in a single-id namespace opens the caller's own mode-000 file and 0300 dir; `relockTree()` restores them", async () => {
  const dir = path.join(base, "own");
  mkdirSync(path.join(dir, "wx"), { recursive: true });
  writeFileSync(path.join(dir, "wx/f"), "inside");
  writeFileSync(path.join(dir, "none"), "n");
  writeFileSync(path.join(dir, "open"), "o");
  chmodSync(path.join(dir, "none"), 0o000);
  chmodSync(path.join(dir, "wx"), 0o1300);
  const saved = await unlockTree(dir, singleIdMapping(uid, gid));
  expect([...saved].sort()).toEqual([["none", 0], ["wx", 0o1300]]);
  expect(lstatSync(path.join(dir, "none")).mode & 0o7777).toBe(0o400);
  expect(lstatSync(path.join(dir, "wx")).mode & 0o7777).toBe(0o1700);
  expect(readFileSync(path.join(dir, "wx/f"), "utf8")).toBe("inside");
  await relockTree(dir, singleIdMapping(uid, gid), saved);
  expect(lstatSync(path.join(dir, "none")).mode & 0o7777).toBe(0);
  expect(lstatSync(path.join(dir, "wx")).mode & 0o7777).toBe(0o1300);
  expect(lstatSync(path.join(dir, "open")).mode & 0o7777).toBe(0o644);
});

test("`unlockTree()` fails with a SANDBOX error naming the path it cannot change or walk", async () => {
  await expect(unlockTree(path.join(base, "missing"), singleIdMapping(uid, gid))).rejects.toThrow(/Cannot unlock .*missing/);
  if (uid !== 0) return; // the rest needs a file owned by an id the single-id namespace does not map
  const dir = path.join(base, "foreign");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "f"), "x");
  chownSync(path.join(dir, "f"), 4242, 4242);
  chmodSync(path.join(dir, "f"), 0o600);
  const err = await unlockTree(dir, singleIdMapping(uid, gid)).catch((e) => e);
  expect(err).toBeInstanceOf(KbError);
  expect(err.code).toBe("SANDBOX");
  expect(err.message).toContain("chmod f");
});

test("`relockTree()` with nothing saved does not start the helper", async () => {
  await relockTree(path.join(base, "never-created"), singleIdMapping(uid, gid), new Map());
});
