import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDockerfile, parseInstructions, type Instruction } from "../../dockerfile/index.ts";
import { MAX_INLINE_SCRIPT, prepareRunScript, SCRIPT_TARGET } from "./run-script.ts";

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
    expect((await prepareRunScript(runOf("RUN cat <<A\nx\nA\n"), SH, tmp)).argv).toEqual(["/bin/sh", "-c", "cat <<A\nx\nA"]);
    expect((await prepareRunScript(runOf('RUN ["a", "b"]'), SH, tmp)).argv).toEqual(["a", "b"]);
  });

  test("RUN <<EOF with #! is a 0755 program bound at /dev/pipes/EOF and run by the shell; its key names its digest", async () => {
    const inst = runOf("RUN <<EOF\n#!/bin/sh\necho hi\nEOF\n");
    const s = await prepareRunScript(inst, SH, tmp);
    expect(s.argv).toEqual(["/bin/sh", "-c", "/dev/pipes/EOF"]);
    expect(s.history).toEqual(s.argv);
    expect(s.mount).toMatchObject({ type: "bind", target: "/dev/pipes/EOF", readonly: true });
    const source = s.mount!.type === "bind" ? s.mount!.source : "";
    expect(readFileSync(source, "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(statSync(source).mode & 0o777).toBe(0o755);
    expect(s.inPlaceArgv).toEqual(["/bin/sh", "-c", source]);
    expect(s.text).toMatch(/^RUN \/bin\/sh -c \/dev\/pipes\/EOF <program sha256:[0-9a-f]{64}, 18 bytes>$/);
    const other = await prepareRunScript(runOf("RUN <<EOF\n#!/bin/sh\necho ho\nEOF\n"), SH, tmp);
    expect(other.text).not.toBe(s.text);
    await s.cleanup();
    await other.cleanup();
    expect(() => readFileSync(source)).toThrow();
  });

  test("RUN <<-EOF as the whole command strips leading tabs (BuildKit chomps it); inside a longer command the shell does", async () => {
    expect((await prepareRunScript(runOf("RUN <<-EOF\n\techo a\n\t\techo b\nEOF\n"), SH, tmp)).argv).toEqual(["/bin/sh", "-c", "echo a\necho b\n"]);
    expect((await prepareRunScript(runOf("RUN cat <<-A\n\tx\nA\n"), SH, tmp)).argv).toEqual(["/bin/sh", "-c", "cat <<-A\n\tx\nA"]);
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
