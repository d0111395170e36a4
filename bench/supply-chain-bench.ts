// What --sbom --provenance add to a build of the Debian image: builds it with and without, alternating, each in a
// fresh store (cold) and again in the same store (warm), and prints wall times, the added share, and kb's own
// "sbom"/"provenance" timings from --report. Goal (issue 18): at most 10% of the build.
// Run: node_modules/.bin/bun bench/supply-chain-bench.ts [--runs N] [--apt]   (root; debootstrap cache as the slow suite)
//   --apt: the Dockerfile runs apt-get install hello (needs the Debian mirror); default: offline COPY + RUN.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pushDebianImage } from "../test/kit/debian-base.ts";
import { startRegistry } from "../test/kit/registry-server.ts";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 3;
const apt = args.includes("--apt");
const repo = path.resolve(import.meta.dir, "..");

interface Sample { variant: "plain" | "attested"; phase: "cold" | "warm"; ms: number; sbomMs: number; provenanceMs: number; totalMs: number }

function build(ctx: string, cache: string, extra: string[], out: string): { ms: number; report: { timings: Record<string, number>; totalMs: number } } {
  const report = path.join(out, `report-${Math.random().toString(36).slice(2)}.json`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(repo, "src/main.ts"), "build", ctx, "--cache-dir", cache, "--oci-layout-path", path.join(out, "layout"), "--report", report, "--progress", "plain", ...extra], { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`kb build failed: ${r.stderr.slice(-2000)}`);
  return { ms, report: JSON.parse(readFileSync(report, "utf8")) };
}

const reg = await startRegistry("http");
const work = mkdtempSync(path.join(tmpdir(), "kb-sc-bench-"));
try {
  const base = await pushDebianImage(reg);
  const ctx = path.join(work, "ctx");
  mkdirSync(path.join(ctx, "app"), { recursive: true });
  for (let i = 0; i < 200; i++) writeFileSync(path.join(ctx, "app", `f${i}.txt`), `file ${i}\n`.repeat(100));
  writeFileSync(path.join(ctx, "Dockerfile"), apt
    ? `FROM ${base}\nRUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*\nCOPY app /app\n`
    : `FROM ${base}\nCOPY app /app\nRUN ls -R /usr > /usr-list && sha256sum /app/* > /app.sums\n`);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    for (const variant of (i % 2 ? ["attested", "plain"] : ["plain", "attested"]) as Sample["variant"][]) {
      const cache = path.join(work, `cache-${i}-${variant}`);
      const out = path.join(work, `out-${i}-${variant}`);
      mkdirSync(out, { recursive: true });
      const extra = variant === "attested" ? ["--sbom", "--provenance"] : [];
      for (const phase of ["cold", "warm"] as const) {
        const { ms, report } = build(ctx, cache, extra, out);
        samples.push({ variant, phase, ms, totalMs: report.totalMs, sbomMs: report.timings.sbom ?? 0, provenanceMs: report.timings.provenance ?? 0 });
      }
      rmSync(cache, { recursive: true, force: true });
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: string[] = [];
  const summary: Record<string, unknown> = { runs, apt, samples };
  for (const phase of ["cold", "warm"] as const) {
    const plain = median(samples.filter((s) => s.phase === phase && s.variant === "plain").map((s) => s.ms));
    const att = samples.filter((s) => s.phase === phase && s.variant === "attested");
    const attMs = median(att.map((s) => s.ms));
    const own = median(att.map((s) => s.sbomMs + s.provenanceMs));
    const added = ((attMs - plain) / plain) * 100;
    summary[phase] = { plainMs: plain, attestedMs: attMs, sbomPlusProvenanceMs: own, addedPercent: added, ownPercent: (own / attMs) * 100 };
    rows.push(`${phase.padEnd(5)}  plain ${(plain / 1000).toFixed(2)} s  with --sbom --provenance ${(attMs / 1000).toFixed(2)} s  added ${added.toFixed(1)}%  (kb's sbom+provenance timings ${(own / 1000).toFixed(2)} s = ${((own / attMs) * 100).toFixed(1)}% of the build)`);
  }
  console.log(`Debian image${apt ? " (apt-get install hello)" : " (COPY + RUN, offline)"}, median of ${runs} runs, alternating:\n${rows.join("\n")}`);
  const dest = path.join(import.meta.dir, "results", `supply-chain-${new Date().toISOString().slice(0, 16).replace(/[T:]/g, "-")}.json`);
  writeFileSync(dest, JSON.stringify(summary, null, 2));
  console.log(`wrote ${path.relative(process.cwd(), dest)}`);
} finally {
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
