// Property tests: random and mutated Dockerfiles never crash or hang the parser, lexer or instruction parser.

import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { KbError } from "../errors.ts";
import { createShellLex, expandInstruction, parseDockerfile, parseInstructions } from "./index.ts";

const ITER = Number(process.env.KB_FUZZ_ITERATIONS ?? 2000);
const dir = process.env.KB_CONFORMANCE_DIR ?? path.resolve(import.meta.dir, "../../../shared/conformance");

/** mulberry32: a tiny seeded PRNG. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BUILTIN = [
  'FROM a AS b\nRUN --mount=type=cache,target=/x <<EOF\necho $A\nEOF\nCOPY --chmod=755 ["a", "b"] /c/\nENV A=1 B="2 3"\n',
  "# escape=`\nFROM x\nHEALTHCHECK --interval=1s CMD [\"a\"]\nONBUILD ADD --checksum=sha256:1 u /d\nLABEL a=b\nEXPOSE 80/tcp\n",
];
const INSERTS = ["\\", "\n", "<<", "<<-", "[", "]", '"', "'", "`", "$", "${", "}", "--", "=", " ", "#", "\t", "\r", "\uFEFF", "é"];

function corpus(): string[] {
  const out = [...BUILTIN];
  const base = path.join(dir, "dockerfile-parser", "testfiles");
  if (fs.existsSync(base)) for (const d of fs.readdirSync(base)) out.push(fs.readFileSync(path.join(base, d, "Dockerfile"), "utf8"));
  return out;
}

function mutate(s: string, rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(rnd() * (s.length + 1));
    const j = Math.min(s.length, i + 1 + Math.floor(rnd() * 8));
    switch (Math.floor(rnd() * 5)) {
      case 0: s = s.slice(0, i) + s.slice(j); break;
      case 1: s = s.slice(0, j) + s.slice(i, j) + s.slice(j); break;
      case 2: s = s.slice(0, i) + s.slice(j, j + (j - i)) + s.slice(i, j) + s.slice(j + (j - i)); break;
      default: s = s.slice(0, i) + INSERTS[Math.floor(rnd() * INSERTS.length)] + s.slice(i);
    }
  }
  return s;
}

function check(text: string): void {
  try {
    const r = parseDockerfile(text);
    const { stages } = parseInstructions(r.nodes);
    const lex = createShellLex(r.escapeToken);
    for (const s of stages) for (const i of [s.from, ...s.instructions]) expandInstruction(i, lex, { A: "1", B: "" });
  } catch (e) {
    if (!(e instanceof KbError)) throw new Error(`non-KbError for ${JSON.stringify(text.slice(0, 200))}: ${e}`);
    if (e.code === "INTERNAL") throw new Error(`INTERNAL for ${JSON.stringify(text.slice(0, 200))}: ${e.message}`);
    if (!e.location?.start.line) throw new Error(`no line for ${JSON.stringify(text.slice(0, 200))}: ${e.message}`);
  }
}

test("mutated corpus Dockerfiles give nodes or a KbError with a line (fixed seed)", () => {
  const rnd = prng(0xdeb0);
  const files = corpus();
  for (let i = 0; i < ITER; i++) check(mutate(files[i % files.length]!, rnd));
});

test("random token soup never crashes the parser or the lexer (fixed seed)", () => {
  const rnd = prng(42);
  const words = ["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "ONBUILD", "HEALTHCHECK", "CMD", "x", "a=b", "--mount=type=bind,target=/", "--from=a", "AS", ...INSERTS];
  const lex = createShellLex("\\");
  for (let i = 0; i < ITER; i++) {
    let s = "";
    const len = Math.floor(rnd() * 30);
    for (let k = 0; k < len; k++) s += words[Math.floor(rnd() * words.length)] + (rnd() < 0.3 ? "\n" : " ");
    check(s);
    for (const w of s.split("\n")) {
      try {
        lex.processWords(w, { A: "x" });
      } catch (e) {
        expect(e).toBeInstanceOf(KbError);
      }
    }
  }
});
