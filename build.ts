// Compiles kb into one executable per target with `bun build --compile`, embedding the sandbox helper.
// Usage: bun build.ts [--target bun-linux-x64|bun-linux-arm64|bun-linux-x64-musl|bun-linux-arm64-musl|all] [--outdir dist]

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const outdir = opt("outdir", "dist");
const hostTarget = `bun-linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
const targetArg = opt("target", "host");
const allTargets = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-musl", "bun-linux-arm64-musl"];
const targets = targetArg === "all" ? allTargets : [targetArg === "host" ? hostTarget : targetArg];

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim();
} catch {}

mkdirSync(outdir, { recursive: true });

// The sandbox helper (static C), one per architecture, embedded into the binary of that architecture.
function buildHelper(arch: "x86_64" | "aarch64"): string | undefined {
  const out = join(outdir, `kb-sandbox-${arch}`);
  if (!existsSync("scripts/build-helper.sh")) return undefined;
  try {
    execFileSync("bash", ["scripts/build-helper.sh", outdir], { stdio: "inherit" });
  } catch (e) {
    console.error(`warning: sandbox helper not built: ${(e as Error).message}`);
  }
  return existsSync(out) ? out : undefined;
}

const sums: string[] = [];
for (const target of targets) {
  const arch = target.includes("arm64") ? "aarch64" : "x86_64";
  const helper = buildHelper(arch);
  const name = target === hostTarget && targetArg === "host" ? "kb" : target.replace(/^bun-/, "kb-");
  const outfile = join(outdir, name);
  const variant = target.replace(/^bun-/, "");
  const defines = [
    `--define`, `KB_VERSION=${JSON.stringify(pkg.version)}`,
    `--define`, `KB_COMMIT=${JSON.stringify(commit)}`,
    `--define`, `KB_VARIANT=${JSON.stringify(variant)}`,
    `--define`, `KB_HELPER_EMBED=${JSON.stringify(helper ? `kb-sandbox-${arch}` : "")}`,
  ];
  const entry = helper ? ["src/main.ts", helper] : ["src/main.ts"];
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    ["build", "--compile", "--minify", "--sourcemap=none", `--target=${target}`, ...defines, "--outfile", outfile, ...entry],
    { stdio: "inherit" },
  );
  const size = statSync(outfile).size;
  const sha = createHash("sha256").update(readFileSync(outfile)).digest("hex");
  sums.push(`${sha}  ${name}`);
  console.log(`${outfile}: ${(size / 1e6).toFixed(1)} MB (${target}${helper ? ", sandbox helper embedded" : ""}) in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
}
writeFileSync(join(outdir, "SHA256SUMS"), sums.join("\n") + "\n");
