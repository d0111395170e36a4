import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDockerfile, parseInstructions, type Instruction } from "../../dockerfile/index.ts";
import { MAX_INLINE_SCRIPT, prepareRunScript, runArgv, SCRIPT_TARGET } from "./run-script.ts";

type Run = Extract<Instruction, { kind: "RUN" }>;
const tmp = mkdtempSync(join(tmpdir(), "kb-run-script-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const runOf = (df: string) => parseInstructions(parseDockerfile(`FROM scratch\n${df}`).nodes, { file: "Dockerfile" }).stages[0]!.instructions[0] as Run;
const SH = ["/bin/sh", "-c"];

describe("RUN scripts", () => {
  test("a short script is one argument of the shell, as before", async () => {
    const inst = runOf("RUN <<EOF\necho hi\nEOF\n");
    const s = await prepareRunScript(inst, SH, tmp);
    expect(s.argv).toEqual(["/bin/sh", "-c", "echo hi\n"]);
    expect(s.text).toBe("RUN /bin/sh -c echo hi\n");
    expect(s.mount).toBeUndefined();
    expect(runArgv(runOf("RUN cat <<A\nx\nA\n"), SH)).toEqual(["/bin/sh", "-c", "cat <<A\nx\nA"]);
    expect((await prepareRunScript(runOf('RUN ["a", "b"]'), SH, tmp)).argv).toEqual(["a", "b"]);
  });

  test("a long script is written to a file, sourced from a read-only bind and keyed by its digest", async () => {
    const body = "echo é\n".repeat(MAX_INLINE_SCRIPT);
    const inst = runOf(`RUN cat <<A\n${body}A\n`);
    const s = await prepareRunScript(inst, SH, tmp);
    expect(s.argv).toEqual(["/bin/sh", "-c", `. ${SCRIPT_TARGET}`]);
    expect(s.mount).toMatchObject({ type: "bind", target: SCRIPT_TARGET, readonly: true });
    const source = s.mount!.type === "bind" ? s.mount!.source : "";
    expect(readFileSync(source, "utf8")).toBe(`cat <<A\n${body}A`);
    expect(s.text).toMatch(new RegExp(`^RUN /bin/sh -c <script sha256:[0-9a-f]{64}, ${Buffer.byteLength(`cat <<A\n${body}A`)} bytes>$`));
    await s.cleanup();
    expect(() => readFileSync(source)).toThrow();
  });

  test("a long script of a shell that is not POSIX sh stays one argument", async () => {
    const inst = runOf(`RUN <<A\n${"x\n".repeat(MAX_INLINE_SCRIPT)}A\n`);
    const s = await prepareRunScript(inst, ["pwsh", "-Command"], tmp);
    expect(s.mount).toBeUndefined();
    expect(s.argv[2]!.length).toBe(2 * MAX_INLINE_SCRIPT);
  });
});
