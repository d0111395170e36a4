// The release folder end to end: build.ts's release files (binary, .gz, install.sh, SHA256SUMS) served by a
// local HTTP server, installed with `curl -fsSL …/install.sh | sh` from a PATH with no Node and no Bun.
// Slow (needs dist/kb): runs when KB_SLOW_TESTS=1 (compiling dist/kb first) or when dist/kb exists.

import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeReleaseFiles } from "../../scripts/release-files.ts";
import { ensureCompiledKb } from "../kit/throwaway-root.ts";

// Subprocesses and a local HTTP server: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

const REPO = path.resolve(import.meta.dir, "../..");
const slow = process.env.KB_SLOW_TESTS === "1";
const reason = !slow && !existsSync(path.join(REPO, "dist/kb")) ? "no dist/kb (run `bun build.ts`, or set KB_SLOW_TESTS=1)" : "";
if (reason) console.log(`release.test.ts: skipped: ${reason}`);

const asset = `kb-linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
let rel = "";
let server: Server;
let url = "";
const requests: string[] = [];

beforeAll(async () => {
  if (reason) return;
  const kb = ensureCompiledKb();
  rel = mkdtempSync(path.join(tmpdir(), "kb-release-"));
  copyFileSync(kb, path.join(rel, asset));
  await writeReleaseFiles(rel, [asset]);
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const file = path.join(rel, path.basename(req.url ?? ""));
    if (!existsSync(file)) return void res.writeHead(404).end("not found");
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 600_000);
afterAll(() => {
  server?.close();
  if (rel) rmSync(rel, { recursive: true, force: true });
});

/** Runs a command without blocking the event loop (the release server runs in this process). */
function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A bin folder with every program of /usr/bin and /bin except node, nodejs and bun. */
function pathWithoutNode(root: string): string {
  const bin = path.join(root, "bin");
  mkdirSync(bin);
  for (const d of ["/usr/bin", "/bin", "/usr/sbin"]) {
    for (const f of readdirSync(d)) {
      if (/^(node|nodejs|bun|bunx|npm|npx)$/.test(f) || existsSync(path.join(bin, f))) continue;
      symlinkSync(path.join(d, f), path.join(bin, f));
    }
  }
  return bin;
}

test.skipIf(Boolean(reason))("the release folder holds install.sh, the .gz, and SHA256SUMS covering every file; the .gz is at most 60% of the binary", () => {
  const names = readdirSync(rel).sort();
  expect(names).toEqual([asset, `${asset}.gz`, "SHA256SUMS", "install.sh"].sort());
  const sums = readFileSync(path.join(rel, "SHA256SUMS"), "utf8").trim().split("\n").map((l) => l.split("  ")[1]);
  expect(sums.sort()).toEqual([asset, `${asset}.gz`, "install.sh"].sort());
  const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: rel, encoding: "utf8" });
  expect(check.status).toBe(0);
  const raw = readFileSync(path.join(rel, asset)).length;
  const gz = readFileSync(path.join(rel, `${asset}.gz`)).length;
  console.log(`release.test.ts: ${asset} ${(raw / 1e6).toFixed(1)} MB, .gz ${(gz / 1e6).toFixed(1)} MB`);
  expect(gz).toBeLessThan(raw * 0.6);
});

test.skipIf(Boolean(reason))("`curl -fsSL URL/install.sh | sh` installs kb from the .gz and kb runs with no Node on PATH", async () => {
  const work = mkdtempSync(path.join(tmpdir(), "kb-release-install-"));
  try {
    const bin = pathWithoutNode(work);
    const dest = path.join(work, "installed");
    const env = { PATH: bin, HOME: work, TMPDIR: work, KB_INSTALL_BASE_URL: url, KB_INSTALL_DIR: dest, KB_INSTALL_LIBC: "gnu" };
    expect(spawnSync("sh", ["-c", "command -v node || command -v bun"], { env }).status).not.toBe(0);
    const before = requests.length;
    const r = await run("sh", ["-c", `curl -fsSL ${url}/install.sh | sh`], env);
    expect(r.stderr).toContain(`downloading ${asset}.gz`);
    expect(r.code).toBe(0);
    expect(requests.slice(before)).toEqual(["/install.sh", "/SHA256SUMS", `/${asset}.gz`]);
    const v = spawnSync(path.join(dest, "kb"), ["version"], { env, encoding: "utf8" });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^kb \d/);
    expect(readFileSync(path.join(dest, "kb")).equals(readFileSync(path.join(rel, asset)))).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 300_000);
