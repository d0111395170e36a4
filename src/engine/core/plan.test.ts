import { describe, expect, test } from "bun:test";
import { parseDockerfile, parseInstructions } from "../../dockerfile/index.ts";
import { isKbError } from "../../errors.ts";
import { planBuild } from "./plan.ts";

const amd64 = { os: "linux", architecture: "amd64" };
function plan(text: string, o: { target?: string; args?: Record<string, string> } = {}) {
  const p = parseDockerfile(text);
  return planBuild(parseInstructions(p.nodes), { buildArgs: new Map(Object.entries(o.args ?? {})), target: o.target, platform: amd64, buildPlatform: amd64, escapeToken: p.escapeToken });
}

describe("planBuild()", () => {
  test("keeps only the stages the target needs, dependencies first", () => {
    const p = plan("FROM alpine AS a\nFROM scratch AS unused\nFROM a AS b\nFROM scratch AS c\nCOPY --from=b /x /x\n");
    expect(p.order).toEqual([0, 2, 3]);
    expect(p.stages[2]!.base).toEqual({ kind: "stage", index: 0 });
    expect(p.stages[3]!.deps).toEqual([2]);
  });
  test("--target picks a stage by name, case-insensitively, with a suggestion for typos", () => {
    expect(plan("FROM scratch AS Build\nFROM scratch\n", { target: "build" }).target).toBe(0);
    try {
      plan("FROM scratch AS build\n", { target: "biuld" });
      throw new Error("no error");
    } catch (e) {
      expect(isKbError(e, "USAGE")).toBe(true);
      expect((e as Error & { hint?: string }).hint).toContain("build");
    }
  });
  test("expands FROM with global ARGs and --build-arg, and the platform ARGs", () => {
    const p = plan("ARG TAG=1\nARG REG\nFROM ${REG}/img:${TAG}\nFROM --platform=$BUILDPLATFORM alpine AS x\n", { args: { REG: "r.io" } });
    expect(p.stages[0]!.base).toEqual({ kind: "image", ref: "r.io/img:1" });
  });
  test("a stage that uses a later stage is an error with the line", () => {
    try {
      plan("FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\n");
      throw new Error("no error");
    } catch (e) {
      expect(isKbError(e, "BUILD")).toBe(true);
      expect((e as { location?: { start: { line: number } } }).location?.start.line).toBe(2);
    }
  });
  test("warns about build args nothing consumes", () => {
    const p = plan("FROM scratch\nARG USED\n", { args: { USED: "1", UNUSED: "2" } });
    expect(p.warnings.map((w) => w.message).join()).toContain("UNUSED");
    expect(p.warnings.map((w) => w.message).join()).not.toContain("\"USED\"");
  });
});
