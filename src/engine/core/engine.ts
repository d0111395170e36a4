// The interpreter: runs the planned stages (independent ones concurrently, bounded) and each stage's
// instructions in order, one handler per kind, with a cache key per step.

import { cpus } from "node:os";
import { KbError, withLocation } from "../../errors.ts";
import { expandInstruction, locationOf, parseInstructionLine, type Instruction } from "../../dockerfile/index.ts";
import { baseState } from "./base.ts";
import { cacheKey } from "./cache-key.ts";
import { runCopy } from "../instructions/copy.ts";
import { addTiming, type EngineEnv } from "./engine-types.ts";
import { applyMetadata, isMetadata } from "../instructions/metadata.ts";
import { runRun } from "../instructions/run.ts";
import { runWorkdir } from "../instructions/workdir.ts";
import { expansionEnv, type StageState } from "./stage-state.ts";
import type { BuildOptions } from "./options.ts";
import type { PlannedStage } from "./plan.ts";

/**
 * How many stages build at once: `opts.stageConcurrency`, else one per core and at least 2 (a stage waits on
 * pulls and RUNs as well as on CPU; more than the cores only adds contention). 2 on a 2-core machine.
 */
export function stageConcurrency(opts: Pick<BuildOptions, "stageConcurrency">, cores = cpus().length): number {
  const n = opts.stageConcurrency;
  if (n === undefined) return Math.max(2, cores);
  if (!Number.isInteger(n) || n < 1) throw new KbError("USAGE", `Cannot build ${n} stages at once`, { hint: "give stageConcurrency a whole number of 1 or more" });
  return n;
}

function stepText(inst: Instruction): string {
  const t = inst.original.replace(/\s+/g, " ").trim();
  return t.length > 120 ? `${t.slice(0, 117)}...` : t;
}

/** A tiny counting semaphore. */
function semaphore(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    async acquire() {
      if (free > 0) return void free--;
      await new Promise<void>((r) => waiting.push(r));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/** Declares ARGs in a stage: --build-arg, then the default, then the global ARG of the same name. */
function runArg(env: EngineEnv, st: StageState, inst: Extract<Instruction, { kind: "ARG" }>): string {
  const parts: string[] = [];
  for (const d of inst.args) {
    // The name is expanded too: `ENV src=myarg` then `ARG ${src}=x` declares myarg (BuildKit expands ARG names).
    const key = d.key.includes("$") ? env.lex.processWord(d.key, expansionEnv(st)) : d.key;
    let v = env.plan.buildArgs.get(key);
    if (v === undefined && d.value !== undefined) v = env.lex.processWord(d.value, expansionEnv(st));
    if (v === undefined && env.plan.globalArgs.has(key)) v = env.plan.globalArgs.get(key);
    if (v !== undefined) st.args.set(key, v);
    const declaredValue = d.value !== undefined ? env.lex.processWord(d.value, expansionEnv(st)) : undefined;
    st.declared = [...st.declared.filter((x) => x.key !== key), { key, value: v }];
    // History shows the declaration (BuildKit: `ARG k=default`), the value in use goes to RUN's "|N k=v".
    parts.push(declaredValue === undefined ? key : `${key}=${declaredValue}`);
  }
  return `ARG ${parts.join(" ")}`;
}

async function runInstruction(env: EngineEnv, st: StageState, raw: Instruction, step: number): Promise<boolean> {
  if (raw.kind === "ARG") {
    const text = runArg(env, st, raw);
    st.key = cacheKey(st.key, text);
    st.history.push({ created: env.created, created_by: text, comment: "buildkit.dockerfile.v0", empty_layer: true });
    return false;
  }
  const report = { matched: new Set<string>(), unmatched: new Set<string>() };
  const inst = expandInstruction(raw, env.lex, expansionEnv(st), report);
  checkUndefined(env, st, raw, report.unmatched, step);
  if (isMetadata(inst)) {
    const text = applyMetadata(st, inst);
    st.key = cacheKey(st.key, text);
    // ONBUILD only records the trigger in the config: BuildKit writes no history entry for it.
    if (inst.kind !== "ONBUILD") st.history.push({ created: env.created, created_by: text, comment: "buildkit.dockerfile.v0", empty_layer: true });
    return false;
  }
  switch (inst.kind) {
    case "WORKDIR":
      return runWorkdir(env, st, inst);
    case "COPY":
    case "ADD":
      return runCopy(env, st, inst, step);
    case "RUN":
      return runRun(env, st, inst, step);
    case "FROM":
    case "ARG":
      throw new KbError("INTERNAL", `Cannot run ${inst.kind} inside a stage`);
    default:
      return unhandled(inst);
  }
}

/**
 * The compiler's check that the dispatch above names every instruction kind: a new kind in the Dockerfile
 * front end makes `inst` not `never` here, a type error, until it gets a case (or joins METADATA_KINDS).
 */
function unhandled(inst: never): never {
  throw new KbError("INTERNAL", `Cannot run instruction "${(inst as Instruction).kind}"`);
}

/**
 * A variable that is not set expands to "" (as in Docker, with an UndefinedVar warning). When the stage declares
 * it with ARG further down, it was used before its definition: that is an error, since the value would be lost.
 */
function checkUndefined(env: EngineEnv, st: StageState, inst: Instruction, unmatched: Set<string>, step: number): void {
  if (unmatched.size === 0) return;
  const stage = env.plan.stages.find((p) => p.stage.index === st.index)!.stage;
  const later = stage.instructions.filter((i) => i.location.startLine > inst.location.startLine);
  for (const name of unmatched) {
    const decl = later.find((i) => i.kind === "ARG" && i.args.some((a) => a.key === name));
    if (decl) {
      throw new KbError("DOCKERFILE_EXPANSION", `Cannot use "$${name}" here: ARG ${name} is declared later, on line ${decl.location.startLine}`, {
        hint: `move "ARG ${name}" above line ${inst.location.startLine}`,
      });
    }
    env.sink.emit({ type: "warning", message: `UndefinedVar: "$${name}" is not set and expands to "" (step ${step})`, line: inst.location.startLine });
  }
}

/** Parses the ONBUILD triggers of a base image into instructions placed at the FROM line. */
function triggers(ps: PlannedStage, onbuild: string[], escapeToken: string): Instruction[] {
  return onbuild.map((t) => {
    const inst = parseInstructionLine(t, escapeToken, ps.stage.from.location.file);
    return { ...inst, location: ps.stage.from.location, original: `ONBUILD ${t}` } as Instruction;
  });
}

async function buildStage(env: EngineEnv, ps: PlannedStage, stageCount: number, stagePos: number): Promise<StageState> {
  const dep = ps.base.kind === "stage" ? await env.stageResult(ps.base.index) : undefined;
  const t0 = performance.now();
  const { state: st, onbuild } = await baseState(ps, env.client, env.store, dep, env.signal).catch((e) => {
    throw withLocation(e, locationOf(ps.stage.from));
  });
  addTiming(env, "resolve base", performance.now() - t0);
  env.onBase?.(st);
  const insts = [...triggers(ps, onbuild, env.lex.escapeToken), ...ps.stage.instructions];
  const total = insts.length + 1;
  const stageLabel = ps.display;
  env.sink.emit({ type: "step-start", stage: stageLabel, stageIndex: stagePos, stageCount, step: 1, stepCount: total, text: `FROM ${st.baseName}`, line: ps.stage.from.location.startLine });
  env.sink.emit({ type: "step-end", stage: stageLabel, step: 1, cached: false, ms: performance.now() - t0, text: `FROM ${st.baseName}` });
  for (let i = 0; i < insts.length; i++) {
    env.signal.throwIfAborted();
    const inst = insts[i]!;
    const step = i + 2;
    const text = stepText(inst);
    env.sink.emit({ type: "step-start", stage: stageLabel, stageIndex: stagePos, stageCount, step, stepCount: total, text, line: inst.location.startLine });
    const s0 = performance.now();
    let cached: boolean;
    try {
      cached = await runInstruction(env, st, inst, step);
    } catch (e) {
      throw withLocation(e, locationOf(inst));
    }
    env.sink.emit({ type: "step-end", stage: stageLabel, step, cached, ms: performance.now() - s0, text });
  }
  st.config.history = st.history;
  st.config.created = env.created;
  return st;
}

/** Builds every stage in the plan's order (each after its dependencies) and returns the target's state. */
export async function runStages(base: Omit<EngineEnv, "stageResult">): Promise<StageState> {
  const { plan } = base;
  const results = new Map<number, Promise<StageState>>();
  const sem = semaphore(stageConcurrency(base.opts));
  const env: EngineEnv = {
    ...base,
    stageResult(i) {
      const r = results.get(i);
      if (!r) throw new KbError("INTERNAL", `Cannot use stage ${i}: it is not part of this build`);
      return r;
    },
  };
  const controller = new AbortController();
  const signal = AbortSignal.any([base.signal, controller.signal]);
  const stageEnv = { ...env, signal };
  plan.order.forEach((idx, pos) => {
    const ps = plan.stages[idx]!;
    const p = (async () => {
      await Promise.all(ps.deps.map((d) => results.get(d)));
      await sem.acquire();
      try {
        const st = await buildStage(stageEnv, ps, plan.order.length, pos);
        base.onStage?.(st);
        return st;
      } finally {
        sem.release();
      }
    })();
    p.catch((e) => controller.abort(e));
    results.set(idx, p);
  });
  // Wait for every stage (a failure aborts the others) and return the target.
  await Promise.all(results.values());
  return results.get(plan.target)!;
}
