// The builders under test: kb (source via bun, or the compiled dist/kb) and buildah with vfs or overlay storage.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { addCosts, measure, type Cost } from "./measure.ts";

/**
 * Moves `dir` into `work/trash` (deleted when the bench ends) instead of deleting it now. This machine's ext4 has
 * no journal, and there every inode allocation skips inodes deleted in the last 60–360 s by reading each one's
 * dtime (fs/ext4/ialloc.c, recently_deleted()): right after a reset deleted a store of ~10,000 files, unpacking the
 * Debian base took 3–6 s instead of 1 s, for GNU tar as for every builder, and grew with each deletion before it.
 * A cold build is measured on a file system that deleted nothing just before (docs/decisions/134-unpack-speed-and-bench-deletes.md).
 */
export function toTrash(work: string, dir: string): void {
  if (!existsSync(dir)) return;
  const trash = path.join(work, "trash");
  mkdirSync(trash, { recursive: true });
  renameSync(dir, path.join(trash, `${path.basename(dir)}-${process.hrtime.bigint()}`));
}

/** One build (+ push) of a context: total cost, push seconds, and kb's own report when the tool is kb. */
export interface PhaseResult { cost: Cost; pushS: number; report?: KbReport }

/** kb's own timings of one build (from its JSON progress events). */
export interface KbReport {
  totalMs: number;
  timings: Record<string, number>;
  steps: { stage: string; step: number; text: string; start: number; end: number; cached: boolean }[];
}

/** "kb-base": a second kb binary (`--kb-base CMD`, e.g. the commit before a change), so one run pairs before and after. */
export type ToolName = "kb" | "kb-base" | "buildah-vfs" | "buildah-overlay" | "buildkit";

/** A builder: `reset()` empties its cache/storage (a cold start); `build()` builds `ctx` and pushes it as `ref`. */
export interface Tool {
  name: ToolName;
  describe: string;
  reset(): Promise<void>;
  build(ctx: string, ref: string): Promise<PhaseResult>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(".ts")) newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** How to start kb: "auto" takes dist/kb when it is newer than every src/*.ts, else `bun src/main.ts`. */
export function kbCommand(repo: string, choice: string): string[] {
  const bun = path.join(repo, "node_modules/.bin/bun");
  const dist = path.join(repo, "dist/kb");
  if (choice === "source") return [bun, path.join(repo, "src/main.ts")];
  if (choice === "dist") return [dist];
  if (choice !== "auto") return choice.split(" ");
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(path.join(repo, "src"))) return [dist];
  return [bun, path.join(repo, "src/main.ts")];
}

function fail(tool: string, what: string, output: string): never {
  throw new Error(`${tool} ${what} failed:\n${output.slice(-4000)}`);
}

/** Reads kb's `--progress json` events: step times, total build ms, and push = result time − last step end. */
export function kbReportFromEvents(lines: string[]): KbReport {
  const steps: KbReport["steps"] = [];
  let totalMs = NaN;
  let lastStepEnd = NaN;
  let resultAt = NaN;
  for (const l of lines) {
    const ev = JSON.parse(l) as { type: string; time: string; stage: string; step: number; text: string; ms: number; cached: boolean };
    const at = Date.parse(ev.time);
    if (ev.type === "step-end") {
      steps.push({ stage: ev.stage, step: ev.step, text: ev.text, start: 0, end: ev.ms, cached: ev.cached });
      lastStepEnd = Number.isFinite(lastStepEnd) ? Math.max(lastStepEnd, at) : at;
    } else if (ev.type === "result") (totalMs = ev.ms), (resultAt = at);
  }
  return { totalMs, timings: { output: resultAt - lastStepEnd }, steps };
}

/**
 * kb: cache dir under `work`; builds with `-t REF`, so the push is part of the build. Progress goes out as
 * JSON events (not `--report`, whose per-layer file listing reads every layer after the build and would be
 * timed as build time).
 */
export function kbTool(cmd: string[], work: string, registryHost: string, name: "kb" | "kb-base" = "kb"): Tool {
  const cache = path.join(work, `${name}-cache`);
  return {
    name,
    describe: cmd.map((c) => path.basename(c)).join(" "),
    async reset() {
      toTrash(work, cache);
    },
    async build(ctx, ref) {
      const args = ["build", "--cache-dir", cache, "--progress", "json", "--insecure-registry", registryHost, "-t", ref, ctx];
      const m = await measure(cmd[0]!, [...cmd.slice(1), ...args], { keepLine: (l) => l.includes('"type":"step-end"') || l.includes('"type":"result"') });
      if (m.code !== 0) fail(name, `build of ${ctx}`, m.output);
      const report = kbReportFromEvents(m.lines.map((l) => l.text));
      return { cost: { wallS: m.wallS, cpuS: m.cpuS, rssMB: m.rssMB }, pushS: report.timings.output! / 1000, report };
    },
  };
}

export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/**
 * buildah with the flags of TEST-INFRA-NOTES.md: `--root R --runroot RR --storage-driver D bud --isolation chroot
 * --layers`, then `buildah push`. CONTAINERS_REGISTRIES_CONF marks the local registry insecure.
 */
export function buildahTool(driver: "vfs" | "overlay", work: string, registryHost: string): Tool {
  const root = path.join(work, `buildah-${driver}`);
  const conf = path.join(work, "registries.conf");
  writeFileSync(conf, `[[registry]]\nlocation = "${registryHost}"\ninsecure = true\n`);
  const env = { CONTAINERS_REGISTRIES_CONF: conf };
  const g = ["--root", path.join(root, "root"), "--runroot", path.join(root, "run"), "--storage-driver", driver];
  const version = spawnSync("buildah", ["--version"], { encoding: "utf8" }).stdout.trim();
  return {
    name: driver === "vfs" ? "buildah-vfs" : "buildah-overlay",
    describe: `${version}, ${driver}`,
    async reset() {
      for (const m of mountsUnder(root)) spawnSync("umount", ["-l", m]);
      toTrash(work, root);
      mkdirSync(root, { recursive: true });
    },
    async build(ctx, ref) {
      const b = await measure("buildah", [...g, "bud", "--isolation", "chroot", "--layers", "-q", "-t", ref, "-f", path.join(ctx, "Dockerfile"), ctx], { env });
      if (b.code !== 0) fail("buildah bud", `of ${ctx}`, b.output);
      const p = await measure("buildah", [...g, "push", "-q", ref, `docker://${ref}`], { env });
      if (p.code !== 0) fail("buildah push", ref, p.output);
      return { cost: addCosts(b, p), pushS: p.wallS };
    },
  };
}

/** Which tools can run here: kb always; buildah when installed. */
export function availableTools(wanted: ToolName[], kbCmd: string[], work: string, host: string, kbBaseCmd?: string[]): { tools: Tool[]; skipped: string[] } {
  const tools: Tool[] = [];
  const skipped: string[] = [];
  const haveBuildah = spawnSync("sh", ["-c", "command -v buildah"]).status === 0;
  for (const w of wanted) {
    if (w === "kb") tools.push(kbTool(kbCmd, work, host));
    else if (w === "kb-base") {
      if (kbBaseCmd) tools.push(kbTool(kbBaseCmd, work, host, "kb-base"));
      else skipped.push("kb-base: no --kb-base CMD given");
    }
    else if (w === "buildkit") continue; // started by run.ts (bench/lib/buildkit.ts): it needs a daemon
    else if (!haveBuildah) skipped.push(`${w}: buildah is not installed (apt-get install buildah)`);
    else tools.push(buildahTool(w === "buildah-vfs" ? "vfs" : "overlay", work, host));
  }
  return { tools, skipped };
}
