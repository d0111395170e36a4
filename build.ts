// Compiles kb into one executable per target with `bun build --compile`, embedding the sandbox helper.
// Usage: bun build.ts [--target host|all|bun-linux-x64|bun-linux-arm64|bun-linux-x64-musl|bun-linux-arm64-musl]
//                     [--outdir dist] [--entry src/main.ts] [--name kb]
// `--target host` (default) writes OUTDIR/kb; other targets write OUTDIR/kb-linux-<arch>[-musl] and
// OUTDIR/kb-linux-<arch>[-musl].gz, OUTDIR/install.sh and OUTDIR/SHA256SUMS over all of them (the release
// folder `curl -fsSL <release>/install.sh | sh` needs; see scripts/release-files.ts). Prints a size report.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeReleaseFiles } from "./scripts/release-files.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const outdir = opt("outdir", "dist");
const entry = opt("entry", "src/main.ts");
const hostArch = process.arch === "arm64" ? "arm64" : "x64";
// A musl host (Alpine) has a musl loader and no glibc one.
const hostMusl = readdirSync("/lib").some((f) => f.startsWith("ld-musl-")) && !existsSync("/lib64/ld-linux-x86-64.so.2") &&
  !existsSync("/lib/ld-linux-aarch64.so.1");
const hostTarget = `bun-linux-${hostArch}${hostMusl ? "-musl" : ""}`;
const targetArg = opt("target", "host");
const allTargets = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-musl", "bun-linux-arm64-musl"];
const targets = targetArg === "all" ? allTargets : [targetArg === "host" ? hostTarget : targetArg];
for (const t of targets) {
  if (!allTargets.includes(t)) throw new Error(`Cannot build target "${t}": expected host, all or one of ${allTargets.join(", ")}`);
}

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim();
} catch {}

mkdirSync(outdir, { recursive: true });

async function sha256File(p: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

// The sandbox helper (static C), one per architecture (kb-sandbox-x86_64, kb-sandbox-arm64), built once.
let helpersBuilt = false;
function helperFor(arch: "x86_64" | "arm64"): string | undefined {
  const out = join(outdir, `kb-sandbox-${arch}`);
  if (!helpersBuilt && existsSync("scripts/build-helper.sh")) {
    helpersBuilt = true;
    try {
      execFileSync("bash", ["scripts/build-helper.sh", outdir], { stdio: "inherit" });
    } catch (e) {
      console.error(`warning: sandbox helper not built: ${(e as Error).message}`);
    }
  }
  if (existsSync(out)) return out;
  console.error(`warning: no ${out}: this binary will ask for KB_SANDBOX_HELPER at run time`);
  return undefined;
}

interface Built { name: string; target: string; size: number; sha: string; helper: boolean; seconds: number }
const built: Built[] = [];
for (const target of targets) {
  const arch = target.includes("arm64") ? "arm64" : "x86_64";
  const helper = helperFor(arch);
  const helperSha = helper ? await sha256File(helper) : "";
  const name = targetArg === "host" ? opt("name", "kb") : target.replace(/^bun-/, "kb-");
  const outfile = join(outdir, name);
  const defines = [
    `--define`, `KB_VERSION=${JSON.stringify(pkg.version)}`,
    `--define`, `KB_COMMIT=${JSON.stringify(commit)}`,
    `--define`, `KB_VARIANT=${JSON.stringify(target.replace(/^bun-/, ""))}`,
    `--define`, `KB_HELPER_EMBED=${JSON.stringify(helper ? `kb-sandbox-${arch}` : "")}`,
    `--define`, `KB_HELPER_SHA256=${JSON.stringify(helperSha)}`,
  ];
  // Files listed after the entry point are embedded as-is and show up in Bun.embeddedFiles.
  const entries = helper ? [entry, helper] : [entry];
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    ["build", "--compile", "--minify", "--bytecode", "--format=esm", "--sourcemap=none", `--target=${target}`, ...defines, "--outfile", outfile, ...entries],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const seconds = (performance.now() - t0) / 1000;
  built.push({ name, target, size: statSync(outfile).size, sha: await sha256File(outfile), helper: Boolean(helper), seconds });
}

const release = targetArg !== "host" ? await writeReleaseFiles(outdir, built.map((b) => b.name)) : [];
console.log(`${"file".padEnd(32)} ${"size".padStart(9)}  helper    build`);
for (const b of built) {
  const mb = `${(b.size / 1e6).toFixed(1)} MB`;
  console.log(`${join(outdir, b.name).padEnd(32)} ${mb.padStart(9)}  ${(b.helper ? "embedded" : "MISSING").padEnd(8)}  ${b.seconds.toFixed(1)}s`);
}
const sized = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`);
for (const f of release.filter((r) => !built.some((b) => b.name === r.name))) console.log(`${join(outdir, f.name).padEnd(32)} ${sized(f.size).padStart(9)}`);
