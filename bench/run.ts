// Benchmarks kb against buildah (vfs and overlay) on the same machine in one run, alternating the tools.
// Run: node_modules/.bin/bun bench/run.ts [--cases a,b] [--runs N] [--quick] [--all]   (see bench/README.md)

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pushBusyboxImage } from "../test/kit/base-images.ts";
import { pushDebianImage } from "../test/kit/debian-base.ts";
import { startRegistry } from "../test/kit/registry-server.ts";
import { allCases, type BenchCase, type CaseEnv } from "./cases/index.ts";
import { parseBenchArgs, type BenchArgs } from "./lib/args.ts";
import { pushBigBase } from "./lib/big-base.ts";
import { buildkitTool, buildkitUnavailable } from "./lib/buildkit.ts";
import { renderChart } from "./lib/chart.ts";
import { compareResults } from "./lib/compare.ts";
import { imageSizeMB } from "./lib/image-size.ts";
import { describeMachine } from "./lib/machine.ts";
import { hasGnuTime } from "./lib/measure.ts";
import type { BenchResult, CaseResult, KbPhaseDetail, Sample } from "./lib/result.ts";
import { renderKbDetails, renderTable } from "./lib/table.ts";
import { measureStartup, renderStartup, type BinaryFacts } from "./lib/startup.ts";
import { availableTools, kbCommand, toTrash, type PhaseResult, type Tool } from "./lib/tools.ts";

const repo = path.resolve(import.meta.dir, "..");

function pickCases(a: BenchArgs): BenchCase[] {
  if (!a.cases) return allCases.filter((c) => a.all || !c.heavy);
  return a.cases.map((name) => {
    const c = allCases.find((x) => x.name === name);
    if (!c) throw new Error(`unknown case "${name}" (${allCases.map((x) => x.name).join(", ")})`);
    return c;
  });
}

const detail = (p: PhaseResult): KbPhaseDetail | undefined => p.report && {
  totalMs: p.report.totalMs,
  timings: p.report.timings,
  steps: p.report.steps.map((s) => ({ text: s.text, ms: +(s.end - s.start).toFixed(1), cached: s.cached })),
};

function gitCommit(): string {
  const r = spawnSync("git", ["-C", repo, "describe", "--always", "--dirty"], { encoding: "utf8" });
  return r.stdout.trim() || "unknown";
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** One cycle for one tool: reset → cold build+push → warm rebuild → change one file → rebuild. */
async function cycle(tool: Tool, c: BenchCase, ctx: string, ref: string, changeNo: () => number): Promise<Omit<Sample, "run">> {
  await tool.reset();
  const cold = await tool.build(ctx, ref);
  const sizeMB = await imageSizeMB(ref);
  const warm = await tool.build(ctx, ref);
  c.change(ctx, changeNo());
  const change = await tool.build(ctx, ref);
  const kb = cold.report && { cold: detail(cold)!, warm: detail(warm)!, change: detail(change)! };
  return { cold: cold.cost, warm: warm.cost, change: change.cost, pushS: cold.pushS, sizeMB, ...(kb ? { kb } : {}) };
}

/** --render: print a results file's table (and rewrite its chart), or compare two results files. */
function render(files: string[]): void {
  const [a, b] = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as BenchResult);
  if (!b) {
    writeFileSync(files[0]!.replace(/\.json$/, ".svg"), renderChart(a!));
    console.log(`${renderTable(a!)}\n\nkb's own report (ms):\n${renderKbDetails(a!)}`);
    return;
  }
  const c = compareResults(a!, b);
  console.log(`${c.text}\n\n${c.agree} of ${c.total} medians agree within the other run's min–max`);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.render) return render(args.render);
  const cases = pickCases(args);
  const work = mkdtempSync(path.join(tmpdir(), "kb-bench-"));
  const reg = await startRegistry("http");
  let dockerd: { stop(): Promise<void> } | undefined;
  const skipped: string[] = hasGnuTime() ? [] : ["CPU and RSS: GNU time is missing (apt-get install time)"];
  try {
    const base = await pushBusyboxImage(reg);
    let bigBase: Promise<string> | undefined;
    let debian: Promise<string> | undefined;
    const env: CaseEnv = {
      base,
      scale: args.quick ? 0.1 : 1,
      seed: args.seed,
      bigBase: () => (bigBase ??= pushBigBase(reg.host, args.quick ? 10_000 : 100_000)),
      debian: () => (debian ??= pushDebianImage(reg)),
    };
    const kbCmd = kbCommand(repo, args.kb);
    const { tools, skipped: missing } = availableTools(args.tools, kbCmd, work, reg.host, args.kbBase?.split(" "));
    skipped.push(...missing);
    if (args.tools.includes("buildkit")) {
      const why = buildkitUnavailable();
      if (why) skipped.push(`buildkit: ${why}`);
      else {
        const bk = await buildkitTool(path.join(work, "dockerd"), work);
        dockerd = bk;
        tools.push(bk);
      }
    }
    for (const s of skipped) log(`skipped: ${s}`);
    log(`kb: ${kbCmd.join(" ")}; tools: ${tools.map((t) => `${t.name} (${t.describe})`).join(", ")}; runs: ${args.runs}`);
    const result: BenchResult = {
      date: new Date().toISOString(), machine: describeMachine(), command: `bun bench/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
      kb: kbCmd.join(" "), commit: gitCommit(), tools: tools.map((t) => ({ name: t.name, describe: t.describe })), runs: args.runs, quick: args.quick,
      seed: args.seed, skipped, cases: [],
    };
    const binary = measureStartup(kbCmd);
    (result as BenchResult & { binary?: BinaryFacts }).binary = binary;
    log(renderStartup(binary));
    const prefix = args.out ?? path.join(repo, "bench/results", result.date.slice(0, 19).replace(/[:T]/g, "-"));
    mkdirSync(path.dirname(prefix), { recursive: true });
    const save = () => {
      writeFileSync(`${prefix}.json`, `${JSON.stringify(result, null, 1)}\n`);
      writeFileSync(`${prefix}.svg`, renderChart(result));
    };
    for (const c of cases) {
      const ctx = path.join(work, "ctx", c.name);
      mkdirSync(ctx, { recursive: true });
      log(`\n== ${c.name}: ${c.description} (generating context)`);
      await c.generate(ctx, env);
      const cr: CaseResult = { name: c.name, description: c.description, samples: {} };
      let n = 0;
      const changeNo = () => ++n;
      const failed = new Set<string>();
      const attempt = async (t: Tool, ref: string) => {
        if (failed.has(t.name)) return undefined;
        try {
          return await cycle(t, c, ctx, ref, changeNo);
        } catch (e) {
          const msg = `${c.name} with ${t.name}: ${(e as Error).message.split("\n").slice(0, 12).join("\n")}`;
          log(`FAILED ${msg}`);
          skipped.push(msg);
          failed.add(t.name);
          return undefined;
        }
      };
      if (args.warmup) for (const t of tools) await attempt(t, `${reg.host}/bench/${c.name}-${t.name}:warmup`);
      for (let run = 1; run <= args.runs; run++) {
        const order = run % 2 ? tools : [...tools].reverse();
        for (const t of order) {
          const s = await attempt(t, `${reg.host}/bench/${c.name}-${t.name}-r${run}:1`);
          if (!s) continue;
          (cr.samples[t.name] ??= []).push({ run, ...s });
          log(`  run ${run} ${t.name.padEnd(16)} cold ${s.cold.wallS.toFixed(2)} s  warm ${s.warm.wallS.toFixed(2)} s  change ${s.change.wallS.toFixed(2)} s  push ${s.pushS.toFixed(2)} s  rss ${Math.max(s.cold.rssMB, s.warm.rssMB, s.change.rssMB).toFixed(0)} MB  size ${s.sizeMB.toFixed(1)} MB`);
        }
      }
      for (const t of tools) await t.reset();
      toTrash(work, ctx);
      result.cases.push(cr);
      save(); // after every case, so an interrupted run keeps what it measured
    }
    save();
    console.log(`\n${renderStartup(binary)}\n\n${renderTable(result)}\n\nkb's own report (ms):\n${renderKbDetails(result)}\n`);
    if (skipped.length) console.log(`Skipped or failed:\n${skipped.map((s) => `- ${s}`).join("\n")}\n`);
    console.log(`wrote ${prefix}.json and ${prefix}.svg`);
  } finally {
    await dockerd?.stop();
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(2);
});
