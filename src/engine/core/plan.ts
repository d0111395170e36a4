// The build plan: global ARGs, FROM expansion, stage names, dependencies, and the stages --target needs.

import { KbError } from "../../errors.ts";
import { createShellLex, expandInstruction, locationOf, type FromInstruction, type Instruction, type ShellLex, type Stage } from "../../dockerfile/index.ts";
import { formatPlatform, normalizePlatform, parsePlatform } from "../../image/platform.ts";
import type { Platform } from "../../image/types.ts";
import { suggest } from "../../suggest.ts";

/** Build args every stage may use without declaring them in RUN (Docker's predefined proxy ARGs). */
export const PROXY_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

export interface PlannedStage {
  stage: Stage;
  /** FROM after expansion. */
  from: FromInstruction;
  /** What the stage is based on. */
  base: { kind: "scratch" } | { kind: "stage"; index: number } | { kind: "image"; ref: string };
  platform: Platform;
  /** Indexes of stages this one needs (FROM, COPY --from, RUN --mount from). */
  deps: number[];
  /** Display name: the AS name, else "stage-N" as BuildKit labels it. */
  display: string;
}

export interface BuildPlan {
  stages: PlannedStage[];
  /** Index of the stage whose image is the result. */
  target: number;
  /** The stages to build, in dependency order (each after what it needs). */
  order: number[];
  /** Values of the global ARGs (before the first FROM), after --build-arg. */
  globalArgs: Map<string, string>;
  /** Build args given on the command line that no ARG consumes (warned about at the end). */
  buildArgs: Map<string, string>;
  lex: ShellLex;
  warnings: { message: string; line?: number }[];
}

/** The predefined platform ARGs for a target and the build platform. */
export function platformArgs(target: Platform, build: Platform): Map<string, string> {
  const t = normalizePlatform(target);
  const b = normalizePlatform(build);
  return new Map([
    ["TARGETPLATFORM", formatPlatform(t)], ["TARGETOS", t.os], ["TARGETARCH", t.architecture], ["TARGETVARIANT", t.variant ?? ""],
    ["BUILDPLATFORM", formatPlatform(b)], ["BUILDOS", b.os], ["BUILDARCH", b.architecture], ["BUILDVARIANT", b.variant ?? ""],
  ]);
}


function parsePlatformValue(s: string, inst: Instruction): Platform {
  try {
    return parsePlatform(s);
  } catch (e) {
    const k = e as KbError;
    throw new KbError("DOCKERFILE_INSTRUCTION", k.message, { hint: k.hint, location: locationOf(inst), cause: e });
  }
}

/** Finds a stage by name or index for `--from` / `from=`; undefined when the word names an image instead. */
function stageRef(word: string, stages: Stage[]): number | undefined {
  if (/^\d+$/.test(word)) return Number(word) < stages.length ? Number(word) : undefined;
  const lower = word.toLowerCase();
  return stages.find((s) => s.name === lower)?.index;
}

function checkEarlier(dep: number, current: number, word: string, inst: Instruction): void {
  if (dep >= current) {
    throw new KbError("BUILD", `Cannot use stage "${word}" here: a stage can only use stages defined before it`, {
      location: locationOf(inst),
      hint: dep === current ? "a stage cannot copy from itself" : "move that stage above this one (stages cannot form a cycle)",
    });
  }
}

/** Looks for a near-miss stage name, so a typo in --from is an error rather than a pull of a bogus image. */
function checkNotTypo(word: string, stages: Stage[], inst: Instruction): void {
  if (/[/:.@]/.test(word)) return;
  const names = stages.map((s) => s.name).filter((n): n is string => !!n);
  const s = suggest(word.toLowerCase(), names, { prefix: true });
  if (s) {
    throw new KbError("BUILD", `Cannot find stage "${word}"`, { location: locationOf(inst), hint: `did you mean --from=${s}? (stage names are case-insensitive)` });
  }
}

/**
 * Plans a build: expands FROM lines with the global ARGs, resolves stage references, and keeps only the stages
 * the target needs, ordered so that each comes after its dependencies.
 */
export function planBuild(
  parsed: { metaArgs: Instruction[]; stages: Stage[] },
  opts: { buildArgs: Map<string, string>; target?: string; platform: Platform; buildPlatform: Platform; escapeToken: string; maxWord?: number },
): BuildPlan {
  const lex = createShellLex(opts.escapeToken, { maxWord: opts.maxWord });
  const warnings: BuildPlan["warnings"] = [];
  const unusedArgs = new Map(opts.buildArgs);
  const globalArgs = new Map<string, string>(platformArgs(opts.platform, opts.buildPlatform));
  for (const a of parsed.metaArgs) {
    if (a.kind !== "ARG") continue;
    for (const d of a.args) {
      const fromCli = opts.buildArgs.get(d.key);
      unusedArgs.delete(d.key);
      if (fromCli !== undefined) globalArgs.set(d.key, fromCli);
      else if (d.value !== undefined) globalArgs.set(d.key, lex.processWord(d.value, globalArgs));
      else if (!globalArgs.has(d.key)) globalArgs.set(d.key, "");
    }
  }
  const { stages } = parsed;
  if (stages.length === 0) throw new KbError("DOCKERFILE_SYNTAX", "Cannot build: the Dockerfile has no FROM", { hint: "start the Dockerfile with FROM <image> (or FROM scratch)" });
  const planned: PlannedStage[] = stages.map((stage, i) => {
    const from = expandInstruction(stage.from, lex, globalArgs) as FromInstruction;
    const platform = from.platform ? parsePlatformValue(from.platform, from) : opts.platform;
    const deps = new Set<number>();
    let base: PlannedStage["base"];
    const dep = stageRef(from.image, stages);
    if (from.image.toLowerCase() === "scratch") base = { kind: "scratch" };
    else if (dep !== undefined && !/^\d+$/.test(from.image)) {
      checkEarlier(dep, i, from.image, from);
      deps.add(dep);
      base = { kind: "stage", index: dep };
    } else base = { kind: "image", ref: from.image };
    for (const inst of stage.instructions) {
      const words: string[] = [];
      if (inst.kind === "COPY" && inst.from) words.push(inst.from);
      if (inst.kind === "RUN") for (const m of inst.mounts) if (m.from) words.push(m.from);
      for (const w of words) {
        if (w.includes("$")) throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot use "--from=${w}": --from is not variable-expanded`, { location: locationOf(inst), hint: "name a stage or an image literally" });
        const d = stageRef(w, stages);
        if (d !== undefined) {
          checkEarlier(d, i, w, inst);
          deps.add(d);
        } else checkNotTypo(w, stages, inst);
      }
    }
    return { stage, from, base, platform, deps: [...deps].sort((a, b) => a - b), display: stage.name ?? `stage-${i}` };
  });
  let target = planned.length - 1;
  if (opts.target !== undefined) {
    const t = stages.find((s) => s.name === opts.target!.toLowerCase());
    if (!t) {
      const s = suggest(opts.target.toLowerCase(), stages.map((x) => x.name).filter((n): n is string => !!n), { prefix: true });
      throw new KbError("USAGE", `Cannot build target "${opts.target}": no stage has that name`, { hint: s ? `did you mean --target ${s}?` : `stages: ${stages.map((x) => x.name ?? x.index).join(", ")}` });
    }
    target = t.index;
  }
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (i: number) => {
    if (seen.has(i)) return;
    seen.add(i);
    for (const d of planned[i]!.deps) visit(d);
    order.push(i);
  };
  visit(target);
  // ARGs consumed by any needed stage count as used.
  for (const i of order) for (const inst of planned[i]!.stage.instructions) if (inst.kind === "ARG") for (const d of inst.args) unusedArgs.delete(d.key);
  for (const p of PROXY_ARGS) unusedArgs.delete(p);
  for (const k of unusedArgs.keys()) warnings.push({ message: `build-arg "${k}" was not consumed by any ARG in the stages built` });
  return { stages: planned, target, order, globalArgs, buildArgs: opts.buildArgs, lex, warnings };
}
