// Terminal injection (issue 13, item 7): a Dockerfile line with `ESC ]0;TITLE BEL ESC [2J` and registry-controlled
// Labels and Env never reach the terminal raw: step headers, progress (plain and json), the report and
// `kb inspect` (text and json) all go through src/log/terminal.ts.

import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { printable, printableJson } from "../../src/log/index.ts";
import { cleanup, kb, makeContext, tempDir } from "../kit/kb.ts";
import { useRegistry } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";

const EVIL = "\x1b]0;TITLE\x07\x1b[2J\u009b31m\u202egnp.exe";
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const reg = useRegistry();
const dirs: string[] = [];
afterAll(async () => {
  cleanup(...dirs);
});

describe("terminal escaping", () => {
  test("printable and printableJson escape ESC, BEL, C1 and bidi controls, and keep text, tabs and newlines", () => {
    expect(printable(`a${EVIL}\tb\n`)).toBe("a\\x1b]0;TITLE\\x07\\x1b[2J\\x9b31m\\u{202e}gnp.exe\tb\n");
    const j = printableJson({ v: EVIL });
    expect(j).not.toMatch(RAW);
    expect(JSON.parse(j)).toEqual({ v: EVIL }); // still valid JSON with the same value
  });

  test("step headers, progress, the report and kb inspect never print the raw sequence", async () => {
    const ctx = makeContext({ Dockerfile: `FROM scratch\nLABEL evil="${EVIL}"\nENV EVIL="${EVIL}"\nCOPY f /f\n`, f: "x" });
    const out = tempDir("kb-esc-");
    dirs.push(ctx, out);
    const ref = `${reg.host}/esc/image:1`;
    const report = path.join(out, "report.html");
    const plain = await kb(["build", "--cache-dir", path.join(out, "cache"), "--progress", "plain", "--report", report, "-t", ref, ctx]);
    expect({ code: plain.code, err: plain.code ? plain.err.slice(-800) : "" }).toEqual({ code: 0, err: "" });
    expect(plain.err).not.toMatch(RAW);
    expect(plain.err).toContain('LABEL evil="\\x1b]0;TITLE\\x07\\x1b[2J');
    expect(readFileSync(report, "utf8")).not.toMatch(RAW);
    const json = await kb(["build", "--cache-dir", path.join(out, "cache"), "--progress", "json", "--no-push", ctx]);
    expect(json.code).toBe(0);
    expect(json.err).not.toMatch(RAW);
    const text = await kb(["inspect", ref]);
    expect(text.code).toBe(0);
    expect(text.out).not.toMatch(RAW);
    expect(text.out).toContain("evil=\\x1b]0;TITLE\\x07");
    expect(text.out).toContain("EVIL=\\x1b]0;TITLE\\x07");
    const ij = await kb(["inspect", "--format", "json", ref]);
    expect(ij.out).not.toMatch(RAW);
    expect(JSON.parse(ij.out).image.labels.evil).toBe(EVIL);
    record("terminal", "ESC ]0;TITLE BEL ESC [2J, CSI, RLO in a Dockerfile line, Labels and Env", "escaped", "step header, progress plain/json, report, kb inspect text/json");
  }, 120_000);
});
