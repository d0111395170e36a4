// xattr reading: the helper's output format, malformed output, a fixed-seed fuzz, and a real read.

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KbError } from "../errors.ts";
import { parseXattrOutput, parseXattrScan, readXattrs } from "./xattrs.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("`parseXattrOutput()` decodes path/name/hex triples into byte strings", () => {
  const m = parseXattrOutput(enc("a/b\0user.overlay.opaque\x0079\0.\0security.capability\x00ff00\0"));
  expect(m.get("a/b")).toEqual({ "user.overlay.opaque": "y" });
  expect(m.get(".")).toEqual({ "security.capability": "\xff\x00" });
});

test("`parseXattrOutput()` rejects truncated output and non-hex values", () => {
  expect(() => parseXattrOutput(enc("a\0b\0"))).toThrow(KbError);
  expect(() => parseXattrOutput(enc("a\0b\x0079"))).toThrow("truncated");
  expect(() => parseXattrOutput(enc("a\0b\0zz\0"))).toThrow("is not hex");
  expect(parseXattrOutput(new Uint8Array(0)).size).toBe(0);
});

test("`parseXattrScan()` lists entries marked unreadable (empty name) apart from the attributes", () => {
  const r = parseXattrScan(enc("d\0\0\0d\0user.overlay.opaque\x0079\0d/f\0\0\0"));
  expect(r.unreadable).toEqual(["d", "d/f"]);
  expect(r.xattrs.get("d")).toEqual({ "user.overlay.opaque": "y" });
  expect(r.xattrs.has("d/f")).toBe(false);
  expect(() => parseXattrScan(enc("d\0\x0079\0"))).toThrow("carries a value");
});

test("`parseXattrOutput()` never crashes on random bytes (fixed seed, 2000 cases)", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const alphabet = [0, 0, 0x30, 0x37, 0x39, 0x61, 0x66, 0x7a, 0x2e, 0xff];
  for (let i = 0; i < 2000; i++) {
    const b = new Uint8Array(Math.floor(rnd() * 40)).map(() => alphabet[Math.floor(rnd() * alphabet.length)]);
    try {
      parseXattrOutput(b);
    } catch (e) {
      expect(e).toBeInstanceOf(KbError);
    }
  }
});

const hasSetfattr = spawnSync("setfattr", ["--version"]).status === 0;
if (!hasSetfattr) console.log("xattrs.test.ts: real read skipped: no setfattr (apt-get install attr)");
const base = mkdtempSync(path.join(tmpdir(), "kb-xattr-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

test.skipIf(!hasSetfattr)("`readXattrs()` reads every attribute under a dir through the helper", async () => {
  mkdirSync(path.join(base, "d/e"), { recursive: true });
  writeFileSync(path.join(base, "d/e/f"), "x");
  spawnSync("setfattr", ["-n", "user.test", "-v", "hello", path.join(base, "d/e/f")]);
  spawnSync("setfattr", ["-n", "user.overlay.opaque", "-v", "y", path.join(base, "d")]);
  const m = await readXattrs(base);
  expect(m.get("d/e/f")).toEqual({ "user.test": "hello" });
  expect(m.get("d")).toEqual({ "user.overlay.opaque": "y" });
});
