import { describe, expect, test } from "bun:test";
import { isKbError, KbError } from "../errors.ts";
import { DockerfileParser, dumpNodes, parseDockerfile, parseDockerfileStream } from "./index.ts";

function streamOf(text: string, chunk = 3): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= bytes.length) return c.close();
      c.enqueue(bytes.slice(i, i + chunk));
      i += chunk;
    },
  });
}

function syntaxError(fn: () => unknown): KbError {
  try {
    fn();
  } catch (e) {
    expect(isKbError(e, "DOCKERFILE_SYNTAX")).toBe(true);
    return e as KbError;
  }
  throw new Error("expected an error");
}

describe("parseDockerfile()", () => {
  test("keeps line numbers across continuations, comments and empty continuation lines", () => {
    const r = parseDockerfile("FROM a\n\nRUN a \\\n# c\n\n  b\nCMD x\n");
    expect(r.nodes.map((n) => [n.keyword, n.startLine, n.endLine])).toEqual([["from", 1, 1], ["run", 3, 6], ["cmd", 7, 7]]);
    expect(r.nodes[1]!.args).toEqual(["a   b"]);
    expect(r.warnings[0]!.message).toBe("Empty continuation line found in: RUN a   b");
  });
  test("reads directives, strips a BOM and honours the backtick escape", () => {
    const r = parseDockerfile("\uFEFF# escape=`\n# syntax=x/y\n# check=skip=all\nFROM a\nRUN a `\n b\n");
    expect(r.directives).toEqual({ escape: "`", syntax: "x/y", check: "skip=all" });
    expect(r.escapeToken).toBe("`");
    expect(r.nodes[1]!.args).toEqual(["a  b"]);
  });
  test("stops directive scanning at the first other line", () => {
    expect(parseDockerfile("# hello\n# escape=`\nFROM a\n").directives.escape).toBe("\\");
  });
  test("rejects repeated directives and bad escape tokens with a line", () => {
    expect(syntaxError(() => parseDockerfile("# escape=`\n# escape=\\\nFROM a")).location?.start.line).toBe(2);
    syntaxError(() => parseDockerfile("# escape=x\nFROM a"));
  });
  test("rejects an empty file, only comments and an unterminated heredoc", () => {
    syntaxError(() => parseDockerfile(""));
    syntaxError(() => parseDockerfile("# c\n\n"));
    expect(syntaxError(() => parseDockerfile("FROM a\nRUN <<EOF\necho\n")).location?.start.line).toBe(2);
  });
  test("rejects a line over 64 KiB and accepts one of exactly 65535 bytes", () => {
    const ok = "RUN " + "x".repeat(65531);
    expect(parseDockerfile(`FROM a\n${ok}\n`).nodes).toHaveLength(2);
    const e = syntaxError(() => parseDockerfile(`FROM a\n${ok}y\n`));
    expect(e.message).toContain("65535");
    expect(e.location?.start.line).toBe(2);
  });
  test("rejects nested JSON with the instruction's line", () => {
    expect(syntaxError(() => parseDockerfile('FROM a\nCMD [ "a", [ "b" ] ]')).location?.start.line).toBe(2);
  });
  test("extracts flags for every instruction and keeps ONBUILD sub-instructions", () => {
    const r = parseDockerfile('FROM a\nCMD --doit [ "a", "b" ]\nONBUILD COPY --from=x a b\nCOPY --doit=true -- foo /tmp/\n');
    expect(dumpNodes(r.nodes)).toBe('(from "a")\n(cmd ["--doit"] "a" "b")\n(onbuild (copy ["--from=x"] "a" "b"))\n(copy ["--doit=true"] "foo" "/tmp/")\n');
  });
  test("stores several heredocs per instruction, also behind ONBUILD", () => {
    const r = parseDockerfile("FROM a\nONBUILD RUN <<A 3<<-'B'\none\nA\n\ttwo\n\tB\nCMD x\n");
    expect(JSON.parse(JSON.stringify(r.nodes[1]!.heredocs))).toEqual([
      { name: "A", content: "one\n", expand: true, chomp: false, fileDescriptor: 0 },
      { name: "B", content: "\ttwo\n", expand: false, chomp: true, fileDescriptor: 3 },
    ]);
    expect(r.nodes[1]!.endLine).toBe(6);
    expect(r.nodes[2]!.keyword).toBe("cmd");
  });
  test("keeps CRLF line endings in heredoc bodies but not in instructions", () => {
    const r = parseDockerfile("FROM a\r\nRUN <<E\r\nx\r\nE\r\n");
    expect(r.nodes[0]!.args).toEqual(["a"]);
    expect(r.nodes[1]!.heredocs[0]!.content.text()).toBe("x\r\n");
  });
});

describe("parseDockerfileStream()", () => {
  const text = "# escape=`\nFROM a AS b\nRUN x `\n  y\nCOPY <<E /f\nhi ♥\nE\n";
  test("yields the same nodes as parseDockerfile for tiny byte chunks (split UTF-8 too)", async () => {
    const nodes = [];
    for await (const n of parseDockerfileStream(streamOf(text, 1))) nodes.push(n);
    expect(nodes).toEqual(parseDockerfile(text).nodes);
  });
  test("exposes directives and warnings on DockerfileParser and accepts string iterables", async () => {
    async function* chunks() {
      yield "FROM a\nRUN a \\\n";
      yield "\n b\n";
    }
    const p = new DockerfileParser(chunks(), { file: "x.Dockerfile" });
    const nodes = [];
    for await (const n of p) nodes.push(n);
    expect(nodes).toHaveLength(2);
    expect(p.warnings).toHaveLength(1);
    expect(p.directives.escape).toBe("\\");
  });
  test("reports errors with the file name", async () => {
    const it = parseDockerfileStream(streamOf("FROM a\nRUN <<E\n"), { file: "df" });
    let err: unknown;
    try {
      for await (const _ of it) void _;
    } catch (e) {
      err = e;
    }
    expect((err as KbError).location?.file).toBe("df");
  });
});
