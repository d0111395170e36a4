// The sandbox helper embedded in a compiled kb: extracted once, sha256-checked, to a private exec-capable dir.
// Compiles test/dist/_helper-probe.ts with build.ts (as kb is compiled) and runs it, also in a throwaway root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeThrowawayRoot, runInRoot } from "../kit/throwaway-root.ts";

const REPO = path.resolve(import.meta.dir, "../..");
const BUN = process.execPath;
const isRoot = process.getuid?.() === 0;
const ARCH = process.arch === "x64" ? "x86_64" : "arm64";
if (!isRoot) console.log("skip helper-embed tests: they need root (mknod, unshare --root, tmpfs mounts)");

let work: string;
let probe: string;
let helperSha: string;

beforeAll(() => {
  if (!isRoot) return;
  work = mkdtempSync(path.join(tmpdir(), "kb-helper-embed-"));
  const r = spawnSync(BUN, ["build.ts", "--entry", "test/dist/_helper-probe.ts", "--name", "kb-probe", "--outdir", work], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build.ts failed: ${r.stderr}`);
  probe = path.join(work, "kb-probe");
  helperSha = createHash("sha256").update(readFileSync(path.join(work, `kb-sandbox-${ARCH}`))).digest("hex");
  for (const a of ["x86_64", "arm64"]) rmSync(path.join(work, `kb-sandbox-${a}`), { force: true }); // not needed any more
}, 120_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface ProbeOut { path?: string; version?: string; error?: string; code?: string }
function runProbe(env: Record<string, string>, shell?: string): ProbeOut {
  const cmd = shell ? ["unshare", "--mount", "sh", "-c", `${shell} && exec "$0"`, probe] : [probe];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", HOME: "/nonexistent", ...env }, encoding: "utf8" });
  return JSON.parse(r.stdout.trim().split("\n").pop() || "{}");
}
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

test.skipIf(!isRoot)("compiled kb runs its embedded helper in a throwaway root with no Node, no Bun and no helper file", async () => {
  const dir = makeThrowawayRoot(probe);
  try {
    const first = await runInRoot(dir, ["/kb"]);
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout) as ProbeOut;
    expect(out).toEqual({ path: `/root/.cache/kb/bin/kb-sandbox-${helperSha.slice(0, 16)}`, version: "kb-sandbox 1" });
    const onHost = path.join(dir, out.path!);
    expect(statSync(path.dirname(onHost)).mode & 0o777).toBe(0o700);
    expect(sha(onHost)).toBe(helperSha);
    const ino = statSync(onHost).ino;
    expect((await runInRoot(dir, ["/kb"])).code).toBe(0);
    expect(statSync(onHost).ino).toBe(ino); // extracted once, reused
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test.skipIf(!isRoot)("`resolveHelperPath()` replaces an extracted helper whose bytes were changed", () => {
  const cache = mkdtempSync(path.join(work, "cache-"));
  const first = runProbe({ XDG_CACHE_HOME: cache });
  expect(first.version).toBe("kb-sandbox 1");
  writeFileSync(first.path!, "#!/bin/sh\necho kb-sandbox evil\n");
  const second = runProbe({ XDG_CACHE_HOME: cache });
  expect(second).toEqual({ path: first.path, version: "kb-sandbox 1" });
  expect(sha(first.path!)).toBe(helperSha);
});

test.skipIf(!isRoot)("`resolveHelperPath()` falls back to XDG_RUNTIME_DIR when the cache is mounted noexec", () => {
  const cache = mkdtempSync(path.join(work, "noexec-"));
  const runtime = mkdtempSync(path.join(work, "runtime-"));
  const out = runProbe({ XDG_CACHE_HOME: cache, XDG_RUNTIME_DIR: runtime }, `mount -t tmpfs -o noexec tmpfs '${cache}'`);
  expect(out).toEqual({ path: `${runtime}/kb/bin/kb-sandbox-${helperSha.slice(0, 16)}`, version: "kb-sandbox 1" });
});

test.skipIf(!isRoot)("`resolveHelperPath()` refuses an extract dir owned by another user and uses the next one", () => {
  const cache = mkdtempSync(path.join(work, "foreign-"));
  mkdirSync(path.join(cache, "kb/bin"), { recursive: true });
  chownSync(path.join(cache, "kb/bin"), 65534, 65534);
  const runtime = mkdtempSync(path.join(work, "runtime-"));
  const out = runProbe({ XDG_CACHE_HOME: cache, XDG_RUNTIME_DIR: runtime });
  expect(out.path).toBe(`${runtime}/kb/bin/kb-sandbox-${helperSha.slice(0, 16)}`);
});

test.skipIf(!isRoot)("`resolveHelperPath()` says why when no extract dir can run programs", () => {
  const cache = mkdtempSync(path.join(work, "noexec2-"));
  const out = runProbe({ XDG_CACHE_HOME: cache, TMPDIR: cache }, `mount -t tmpfs -o noexec tmpfs '${cache}'`);
  expect(out.code).toBe("SANDBOX");
  expect(out.error).toContain(`"${cache}/kb/bin" does not let programs run (mounted noexec?)`);
});

test.skipIf(!isRoot)("`resolveHelperPath()` prefers $KB_SANDBOX_HELPER over the embedded helper", () => {
  const fake = path.join(work, "my-helper");
  writeFileSync(fake, "#!/bin/sh\necho kb-sandbox mine\n", { mode: 0o755 });
  expect(runProbe({ XDG_CACHE_HOME: path.join(work, "unused"), KB_SANDBOX_HELPER: fake })).toEqual({ path: fake, version: "kb-sandbox mine" });
});

test.skipIf(!isRoot)("a kb compiled without the helper says so at run time", () => {
  const bare = path.join(work, "kb-bare");
  const r = spawnSync(BUN, ["build", "--compile", "--outfile", bare, "test/dist/_helper-probe.ts"], { cwd: REPO, encoding: "utf8" });
  expect(r.status).toBe(0);
  const out = spawnSync(bare, [], { env: { HOME: path.join(work, "bare-home") }, encoding: "utf8" });
  const parsed = JSON.parse(out.stdout) as ProbeOut;
  expect(parsed.code).toBe("SANDBOX");
  expect(parsed.error).toBe(`Cannot find the sandbox helper "kb-sandbox-${ARCH}": this kb binary was built without it`);
}, 60_000);

test.skipIf(!isRoot)("a kb whose embedded helper does not match its recorded sha256 refuses it and leaves no file", () => {
  const helper = path.join(work, `kb-sandbox-${ARCH}`);
  writeFileSync(helper, "not the helper the build recorded\n");
  const bad = path.join(work, "kb-bad");
  const defines = ["--define", `KB_HELPER_EMBED="kb-sandbox-${ARCH}"`, "--define", `KB_HELPER_SHA256="${"0".repeat(64)}"`];
  const r = spawnSync(BUN, ["build", "--compile", ...defines, "--outfile", bad, "test/dist/_helper-probe.ts", helper], { cwd: REPO, encoding: "utf8" });
  expect(r.status).toBe(0);
  const cache = mkdtempSync(path.join(work, "bad-"));
  const out = spawnSync(bad, [], { env: { XDG_CACHE_HOME: cache }, encoding: "utf8" });
  const parsed = JSON.parse(out.stdout) as ProbeOut;
  expect(parsed.code).toBe("BLOB_DIGEST_MISMATCH");
  expect(parsed.error).toStartWith("Cannot extract the sandbox helper: its sha256 is");
  expect(readdirSync(path.join(cache, "kb/bin"))).toEqual([]);
}, 60_000);
