// The compiled kb runs with no Node and no Bun: in a throwaway root holding only dist/kb and its libraries.
// Slow: runs when KB_SLOW_TESTS=1 (building dist/kb first if missing) or when a built dist/kb exists.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeThrowawayRoot, runInRoot } from "../kit/throwaway-root.ts";

const REPO = path.resolve(import.meta.dir, "../..");
const KB = path.join(REPO, "dist", "kb");
const slow = process.env.KB_SLOW_TESTS === "1";
const isRoot = process.getuid?.() === 0;
const reason = !isRoot
  ? "they need root (mknod, unshare --root)"
  : !slow && !existsSync(KB)
    ? "no dist/kb (run `bun build.ts` first, or set KB_SLOW_TESTS=1 to build it here)"
    : "";
if (reason) console.log(`skip compiled-binary tests: ${reason}`);

let root = "";
beforeAll(() => {
  if (reason) return;
  if (!existsSync(KB)) {
    const r = spawnSync(process.execPath, ["build.ts"], { cwd: REPO, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`Cannot build dist/kb: ${r.stderr}`);
  }
  root = makeThrowawayRoot(KB, {
    "/ctx/Dockerfile": { text: "FROM scratch AS base\nCOPY hello.txt /hello.txt\nLABEL kb.test=binary\n" },
    "/ctx/hello.txt": { text: "hello\n" },
  });
}, 300_000);
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test.skipIf(Boolean(reason))("`dist/kb version` runs in a root with no Node and no Bun and names its variant", async () => {
  const r = await runInRoot(root, ["/kb", "version"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^kb \S+ \(commit \S+, linux-(x64|arm64)(-musl)?, linux\/(amd64|arm64)\)\n$/);
});

test.skipIf(Boolean(reason))("`dist/kb build --check` checks a Dockerfile in a root with no Node and no Bun", async () => {
  const r = await runInRoot(root, ["/kb", "build", "--check", "/ctx"]);
  expect(r.code).toBe(0);
  const bad = await runInRoot(root, ["/kb", "build", "--check", "--file", "/ctx/missing.Dockerfile", "/ctx"]);
  expect(bad.code).not.toBe(0);
});

test.skipIf(Boolean(reason))("`dist/kb doctor` works with no kb-sandbox file beside it and KB_SANDBOX_HELPER unset", async () => {
  // A copy of dist/kb alone in a folder (dist/kb-sandbox-* is left where it is: other tests may be using it).
  const alone = mkdtempSync(path.join(tmpdir(), "kb-alone-"));
  const cache = path.join(alone, "cache");
  try {
    copyFileSync(KB, path.join(alone, "kb"));
    const env = { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", HOME: alone, XDG_CACHE_HOME: cache };
    const r = spawnSync(path.join(alone, "kb"), ["doctor"], { env, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(readdirSync(path.join(cache, "kb", "bin")).filter((f) => f.startsWith("kb-sandbox-"))).toHaveLength(1);
    // In the chroot no isolation mode works (the kernel refuses user namespaces to a chrooted process), so
    // doctor exits 1 there; what matters is that it found the embedded helper.
    const inRoot = await runInRoot(root, ["/kb", "doctor"]);
    expect(inRoot.stdout).toMatch(/sandbox helper\s+\/root\/\.cache\/kb\/bin\/kb-sandbox-[0-9a-f]{16}\n/);
  } finally {
    rmSync(alone, { recursive: true, force: true });
  }
}, 60_000);
