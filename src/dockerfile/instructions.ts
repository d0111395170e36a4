// Nodes -> typed instructions and stages (BuildKit instructions/parse.go), values left unexpanded.

import { KbError } from "../errors.ts";
import { lineRange, nodeFromLine, type Node, type Warning } from "./_machine.ts";
import { parseFlags } from "./_flags.ts";
import { suggest } from "../suggest.ts";
import { checkStageName, instError, type InstructionRequest } from "./_inst-common.ts";
import { parseAdd, parseCopy, parseHealthcheck, parseRun } from "./_inst-exec.ts";
import type { ArgInstruction, FromInstruction, Instruction, InstructionKind, KeyValue, Stage } from "./instruction-types.ts";

const KINDS: InstructionKind[] = [
  "FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "USER", "EXPOSE", "VOLUME", "CMD", "ENTRYPOINT",
  "SHELL", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "MAINTAINER",
];

/** Options of `parseInstruction(s)`. */
export interface InstructionOptions {
  /** File name for error locations. @default "Dockerfile" */
  file?: string;
}

/** Result of `parseInstructions`. */
export interface ParsedStages {
  /** ARGs before the first FROM (usable in FROM lines). */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  warnings: Warning[];
}

function noFlags(req: InstructionRequest): void {
  parseFlags(req.keyword, req.node.flags, {});
}

function exactlyOne(req: InstructionRequest, what: string): string {
  noFlags(req);
  if (req.node.args.length !== 1) throw instError(req.keyword, `${req.keyword} requires exactly one argument`, `write ${req.keyword} <${what}>`);
  return req.node.args[0]!;
}

function atLeastOne(req: InstructionRequest): void {
  if (req.node.args.length === 0) throw instError(req.keyword, `${req.keyword} requires at least one argument`, `give ${req.keyword} an argument`);
}

function keyValues(req: InstructionRequest): { pairs: KeyValue[]; legacy: boolean } {
  noFlags(req);
  const a = req.node.args;
  atLeastOne(req);
  if (a.length % 3 !== 0) throw instError(req.keyword, "Bad input to " + req.keyword + ", too many arguments", "write KEY=value pairs");
  const pairs: KeyValue[] = [];
  for (let i = 0; i < a.length; i += 3) {
    if (a[i] === "") throw instError(req.keyword, `${req.keyword} names can not be blank`, "write KEY=value with a non-empty KEY");
    pairs.push({ key: a[i]!, value: a[i + 1]! });
  }
  return { pairs, legacy: a[2] === "" };
}

function parseFrom(req: InstructionRequest): FromInstruction {
  const f = parseFlags("FROM", req.node.flags, { platform: "string" });
  const a = req.node.args;
  if (a.length !== 1 && a.length !== 3) throw instError("FROM", "FROM requires either one or three arguments", "write FROM <image> [AS <name>]");
  let stageName: string | undefined;
  if (a.length === 3) {
    if (a[1]!.toLowerCase() !== "as") throw instError("FROM", `expected "AS" but found "${a[1]}"`, "write FROM <image> AS <name>");
    stageName = a[2]!.toLowerCase();
    checkStageName(stageName);
  }
  return { kind: "FROM", location: req.location, original: req.node.original, image: a[0]!, platform: f.strings.get("platform"), stageName };
}

function parseArg(req: InstructionRequest): ArgInstruction {
  noFlags(req);
  atLeastOne(req);
  const args = req.node.args.map((w) => {
    const eq = w.indexOf("=");
    const key = eq < 0 ? w : w.slice(0, eq);
    if (key === "") throw instError("ARG", "ARG names can not be blank", "write ARG NAME[=default]");
    return eq < 0 ? { key } : { key, value: w.slice(eq + 1) };
  });
  return { kind: "ARG", location: req.location, original: req.node.original, args };
}

function parseOnbuild(req: InstructionRequest): Instruction {
  noFlags(req);
  const sub = req.node.sub;
  if (!sub) throw instError("ONBUILD", "ONBUILD requires at least one argument", "write ONBUILD <INSTRUCTION> …");
  const k = sub.keyword.toUpperCase();
  if (k === "ONBUILD") throw instError("ONBUILD", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", "write the trigger instruction directly");
  if (k === "FROM" || k === "MAINTAINER") throw instError("ONBUILD", `${k} isn't allowed as an ONBUILD trigger`, "use another instruction as the trigger");
  const instruction = toInstruction({ ...sub, heredocs: req.node.heredocs }, req.location.file);
  let trigger = req.node.original.replace(/^\s*ONBUILD\s*/i, "");
  for (const h of req.node.heredocs) trigger += "\n" + h.content.text() + h.name;
  return { kind: "ONBUILD", location: req.location, original: req.node.original, trigger, instruction };
}

function dispatch(req: InstructionRequest): Instruction {
  const { node, location } = req;
  const base = { location, original: node.original };
  switch (req.keyword) {
    case "FROM": return parseFrom(req);
    case "RUN": return parseRun(req);
    case "COPY": return parseCopy(req);
    case "ADD": return parseAdd(req);
    case "HEALTHCHECK": return parseHealthcheck(req);
    case "ARG": return parseArg(req);
    case "ONBUILD": return parseOnbuild(req);
    case "ENV": return { kind: "ENV", ...base, ...keyValues(req) };
    case "LABEL": return { kind: "LABEL", ...base, ...keyValues(req) };
    case "WORKDIR": return { kind: "WORKDIR", ...base, path: exactlyOne(req, "path") };
    case "USER": return { kind: "USER", ...base, user: exactlyOne(req, "user") };
    case "STOPSIGNAL": return { kind: "STOPSIGNAL", ...base, signal: exactlyOne(req, "signal") };
    case "MAINTAINER": return { kind: "MAINTAINER", ...base, maintainer: exactlyOne(req, "name") };
    case "EXPOSE": noFlags(req); atLeastOne(req); return { kind: "EXPOSE", ...base, ports: node.args };
    case "VOLUME": noFlags(req); atLeastOne(req); return { kind: "VOLUME", ...base, volumes: node.args };
    case "CMD": noFlags(req); return { kind: "CMD", ...base, command: node.args, json: node.json };
    case "ENTRYPOINT": noFlags(req); return { kind: "ENTRYPOINT", ...base, command: node.args, json: node.json };
    case "SHELL":
      noFlags(req);
      if (!node.json) throw instError("SHELL", "SHELL requires the arguments to be in JSON form", 'write SHELL ["/bin/sh", "-c"]');
      if (node.args.length === 0) throw instError("SHELL", "SHELL requires at least one argument", 'write SHELL ["/bin/sh", "-c"]');
      return { kind: "SHELL", ...base, shell: node.args };
  }
  if (!/^[A-Z][A-Z0-9_-]{0,31}$/.test(req.keyword)) {
    // Not even a word: likely not a Dockerfile at all (--file /etc/shadow). Say where, never what is there.
    throw new KbError("DOCKERFILE_INSTRUCTION", "Cannot parse the Dockerfile: this line does not start with an instruction", {
      hint: `is this file a Dockerfile? Its lines start with one of ${KINDS.join(", ")}`, locationOnly: true,
    });
  }
  const near = suggest(req.keyword, KINDS);
  throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot parse instruction "${req.keyword}": unknown instruction`, {
    hint: near ? `did you mean ${near}?` : `use one of ${KINDS.join(", ")}`,
  });
}

/** Turns one AST node into a typed instruction. @example toInstruction(parseDockerfile("FROM a").nodes[0]) */
export function toInstruction(node: Node, file = "Dockerfile"): Instruction {
  const location = { file, startLine: node.startLine, endLine: node.endLine };
  try {
    return dispatch({ node, keyword: node.keyword.toUpperCase(), location });
  } catch (e) {
    if (e instanceof KbError) {
      if (!e.location) e.location = lineRange(file, node.startLine, node.endLine);
      throw e;
    }
    throw new KbError("INTERNAL", `Cannot parse "${node.original}": ${String(e)}`, { cause: e, location: lineRange(file, node.startLine, node.endLine) });
  }
}

/** Parses nodes into meta ARGs and stages. @example parseInstructions(parseDockerfile(text).nodes).stages[0].from.image */
export function parseInstructions(nodes: readonly Node[], opts: InstructionOptions = {}): ParsedStages {
  const file = opts.file ?? "Dockerfile";
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const warnings: Warning[] = [];
  for (const node of nodes) {
    const inst = toInstruction(node, file);
    const stage = stages[stages.length - 1];
    if (inst.kind === "FROM") {
      if (inst.stageName && stages.some((s) => s.name === inst.stageName)) {
        warnings.push({ rule: "DuplicateStageName", message: `Duplicate stage name "${inst.stageName}", stage names should be unique`, line: node.startLine });
      }
      stages.push({ name: inst.stageName, index: stages.length, from: inst, instructions: [] });
    } else if (stage) stage.instructions.push(inst);
    else if (inst.kind === "ARG") metaArgs.push(inst);
    else {
      throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot parse ${inst.kind}: no build stage in current context`, {
        hint: "only ARG may come before the first FROM; add FROM <image> above this line",
        location: lineRange(file, node.startLine, node.endLine),
      });
    }
  }
  if (stages.length === 0) {
    throw new KbError("DOCKERFILE_INSTRUCTION", "Cannot parse Dockerfile: dockerfile contains no stages to build", {
      hint: "add FROM <image>", location: lineRange(file, nodes[0]?.startLine ?? 1),
    });
  }
  return { metaArgs, stages, warnings };
}

/** Parses one instruction line (e.g. an ONBUILD trigger from a base image) into a typed instruction. */
export function parseInstructionLine(line: string, escapeToken = "\\", file = "Dockerfile"): Instruction {
  return toInstruction(nodeFromLine(line, escapeToken, 1, 1), file);
}
