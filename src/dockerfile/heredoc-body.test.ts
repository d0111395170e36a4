import { describe, expect, test } from "bun:test";
import { createShellLex, DockerfileParser, expandInstruction, HeredocBody, parseDockerfile, parseInstructions } from "./index.ts";
import type { CopyInstruction } from "./instruction-types.ts";

const copyOf = (df: string) => parseInstructions(parseDockerfile(df).nodes, { file: "Dockerfile" }).stages[0]!.instructions[0] as CopyInstruction;

describe("heredoc bodies in pieces", () => {
  test("a big body read in chunks is kept in pieces that end at line ends and join to the exact text", async () => {
    const body = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${"é".repeat(i % 50)}\n`).join("");
    const text = `FROM scratch\nCOPY <<EOF /f\n${body}EOF\n`;
    async function* chunks() {
      for (let i = 0; i < text.length; i += 100_000) yield text.slice(i, i + 100_000);
    }
    const nodes = [];
    for await (const n of new DockerfileParser(chunks())) nodes.push(n);
    const h = nodes[1]!.heredocs[0]!;
    expect(h.content.pieces.length).toBeGreaterThan(1);
    expect(h.content.pieces.every((p) => p.endsWith("\n"))).toBe(true);
    expect(h.content.text()).toBe(body);
    expect(h.content.byteLength()).toBe(Buffer.byteLength(body));
  });

  test("a terminator with \\r\\n, and <<- with tabs, ends the body on the fast path too", () => {
    const lines = `${"a\n".repeat(70_000)}`;
    const r = parseDockerfile(`FROM scratch\nCOPY <<-EOF /f\n${lines}\t\tEOF\r\nRUN true\n`);
    expect(r.nodes.map((n) => n.keyword)).toEqual(["from", "copy", "run"]);
    expect(r.nodes[1]!.heredocs[0]!.content.text()).toBe(lines);
    expect(r.nodes[2]!.startLine).toBe(70_004);
  });

  test("chomp and expansion work piece by piece, also for ${…} across a piece boundary", () => {
    const body = new HeredocBody(["\tA=$A ${B:-x\n", "y} \\$C\n", "\tplain $\n"]);
    const inst = { ...copyOf("FROM scratch\nCOPY <<EOF /f\nz\nEOF\n"), sourceContents: [{ path: "EOF", data: body.map((p) => p.replace(/^\t+/gm, "")), expand: true }] };
    const out = expandInstruction(inst, createShellLex("\\"), { A: "1" }) as CopyInstruction;
    const whole = createShellLex("\\", { skipProcessQuotes: true, rawEscapes: true }).processWord(body.text().replace(/^\t+/gm, ""), { A: "1" });
    expect(out.sourceContents[0]!.data.text()).toBe(whole);
    expect(out.sourceContents[0]!.data.text()).toBe("A=1 x\ny \\$C\nplain $\n");
    // The expanded body is lazy: every read makes the same pieces, and its sizes are known without a read.
    const data = out.sourceContents[0]!.data;
    expect([...data.each()].join("")).toBe(whole);
    expect([data.length, data.byteLength()]).toEqual([whole.length, Buffer.byteLength(whole)]);
  });

  test("a piece without $ is shared, not copied, by expansion", () => {
    const piece = "no variables here\n".repeat(10);
    const inst = { ...copyOf("FROM scratch\nCOPY <<EOF /f\nz\nEOF\n"), sourceContents: [{ path: "EOF", data: new HeredocBody([piece]), expand: true }] };
    const out = expandInstruction(inst, createShellLex("\\"), {}) as CopyInstruction;
    expect(out.sourceContents[0]!.data.pieces[0]).toBe(piece);
  });

  test("the expansion cap still holds over the whole body", () => {
    const body = new HeredocBody(["$X $X\n", "$X\n"]);
    const inst = { ...copyOf("FROM scratch\nCOPY <<EOF /f\nz\nEOF\n"), sourceContents: [{ path: "EOF", data: body, expand: true }] };
    expect(() => expandInstruction(inst, createShellLex("\\", { maxWord: 100 }), { X: "x".repeat(40) })).toThrow("longer than");
  });
});
