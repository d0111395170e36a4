import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KbError } from "../errors.ts";
import { openStore } from "./blob-store.ts";
import { ensureStoreTrust } from "./trust.ts";

const base = mkdtempSync(path.join(tmpdir(), "kb-trust-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;
const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);

describe("ensureStoreTrust()", () => {
  test("a new store root is created 0700, with 0700 top folders", async () => {
    const root = path.join(base, "new", "kb");
    await openStore(root);
    expect(mode(root)).toBe("700");
    expect(mode(path.join(root, "trees"))).toBe("700");
  });

  test("an older 0755 store owned by the caller is fixed to 0700, group-writable folders lose the write bit", async () => {
    const root = path.join(base, "old");
    mkdirSync(path.join(root, "trees"), { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(path.join(root, "trees"), 0o775);
    const r = await ensureStoreTrust(root, [path.join(root, "trees")]);
    expect(r.fixed).toEqual([root, path.join(root, "trees")]);
    expect(mode(root)).toBe("700");
    expect(mode(path.join(root, "trees"))).toBe("755");
  });

  test.skipIf(!isRoot)("a store root or a top folder owned by another user is refused with a hint, and nothing is changed", async () => {
    const root = path.join(base, "foreign");
    mkdirSync(path.join(root, "trees"), { recursive: true, mode: 0o755 });
    chmodSync(root, 0o755);
    chownSync(root, 65534, 65534);
    const e = await openStore(root).catch((x) => x);
    expect(e).toBeInstanceOf(KbError);
    expect(e.message).toBe(`Cannot use the store "${root}": ${root} is owned by uid 65534, not by you (uid 0)`);
    expect(e.hint).toContain("--cache-dir");
    expect(mode(root)).toBe("755");

    chownSync(root, 0, 0);
    chownSync(path.join(root, "trees"), 65534, 65534);
    const e2 = await openStore(root).catch((x) => x);
    expect(e2.message).toContain(`${path.join(root, "trees")} is owned by uid 65534`);
  });
});
