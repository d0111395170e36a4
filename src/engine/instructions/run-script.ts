// The script a shell-form RUN hands its shell: inline (`sh -c SCRIPT`, as BuildKit does) or, when the script is
// too long to be one argument (Linux refuses an argument over 128 KiB), written to a file bound read-only into
// the sandbox and sourced from there (`sh -c '. FILE'`), so a big heredoc runs with its body never joined.
// A RUN that is only a heredoc whose body starts with `#!` runs that body as a program: BuildKit
// (dockerfile2llb dispatchRun) writes it 0755 to /dev/pipes/NAME, bound read-only, and runs `sh -c /dev/pipes/NAME`.

import { createHash } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { chompHeredocContent, HeredocBody, type Instruction } from "../../dockerfile/index.ts";
import type { SandboxMount } from "../../exec/index.ts";
import { utf8Chunks } from "./copy-heredoc.ts";

type Run = Extract<Instruction, { kind: "RUN" }>;

/** Scripts longer than this (UTF-16 code units, so at most 3× in bytes: under the 128 KiB argument limit) go to a file. */
export const MAX_INLINE_SCRIPT = 32 * 1024;
/** Where the script file appears in the sandbox (a mount point in the stub layer, never in the diff). */
export const SCRIPT_TARGET = "/run/kb/run-script";

/** Where a `#!` heredoc's program appears in the sandbox (BuildKit's path), under its heredoc's name. */
export const PIPES_DIR = "/dev/pipes";

/** A RUN's argv, the text its cache key uses, the argv its history shows, and the bind of its script file (if any). */
export interface RunScript {
  argv: string[];
  text: string;
  history: string[];
  mount?: SandboxMount;
  /** The argv in container mode, which runs in this filesystem: the file is used where it is, not through a bind. */
  inPlaceArgv?: string[];
  cleanup(): Promise<void>;
}

/** The heredoc of a RUN that is nothing but that heredoc (`RUN <<EOF`), if it is. */
function onlyHeredoc(inst: Run) {
  const only = inst.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(inst.command.join(" ").trim());
  return only ? inst.heredocs[0]! : undefined;
}

/** The script of a shell-form RUN, as the pieces it is made of (a heredoc body is never joined). */
function scriptParts(inst: Run): HeredocBody {
  // A RUN that is only a heredoc runs its body as the script, tabs removed for `<<-` (BuildKit does the same).
  const only = onlyHeredoc(inst);
  if (only) return only.chomp ? only.content.map(chompHeredocContent) : only.content;
  const parts = [inst.command.join(" ")];
  for (const h of inst.heredocs) parts.push("\n", ...h.content.pieces, h.content.endsWith("\n") ? "" : "\n", h.name);
  return new HeredocBody(parts);
}

/** The heredoc a RUN runs as a program (`RUN <<EOF` whose body starts with `#!`, not chomped yet), if any. */
function shebangProgram(inst: Run) {
  const only = onlyHeredoc(inst);
  return only && only.content.startsWith("#!") ? only : undefined;
}

/** Writes pieces to a new file (mode `mode`) under a fresh dir in `tmpDir`, hashing them; removes it all on failure. */
async function writeScriptFile(parts: HeredocBody, tmpDir: string, mode: number) {
  const dir = await mkdtemp(join(tmpDir, `${process.pid}-run-script-`));
  const file = join(dir, "script");
  const hash = createHash("sha256");
  let size = 0;
  try {
    const fh = await open(file, "w", mode);
    try {
      const buf = new Uint8Array(64 * 1024);
      for (const piece of parts.each()) {
        for (const bytes of utf8Chunks(piece, buf)) {
          hash.update(bytes);
          size += bytes.length;
          await fh.write(bytes);
        }
      }
      await fh.chmod(mode); // the umask may have taken bits
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { file, digest: `sha256:${hash.digest("hex")}`, size, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const isPosixShell = (shell: string[]) => shell.length >= 2 && shell[shell.length - 1] === "-c" && /(^|\/)(ba|da|a|k|z|)sh$/.test(shell[0]!);

/**
 * The argv of a RUN; a long script of a POSIX shell is written under `tmpDir` (piece by piece) and sourced from
 * SCRIPT_TARGET instead. Its cache key and history text then name the script by digest and size.
 */
export async function prepareRunScript(inst: Run, shell: string[], tmpDir: string): Promise<RunScript> {
  const none = async () => {};
  if (inst.json) return { argv: inst.command, text: `RUN ${JSON.stringify(inst.command)}`, history: inst.command, cleanup: none };
  const program = shebangProgram(inst);
  if (program) {
    const body = program.chomp ? program.content.map(chompHeredocContent) : program.content;
    const f = await writeScriptFile(body, tmpDir, 0o755);
    const argv = [...shell, `${PIPES_DIR}/${program.name}`];
    return {
      argv, history: argv, text: `RUN ${argv.join(" ")} <program ${f.digest}, ${f.size} bytes>`,
      mount: { type: "bind", source: f.file, target: `${PIPES_DIR}/${program.name}`, readonly: true },
      inPlaceArgv: [...shell, f.file], cleanup: f.cleanup,
    };
  }
  const parts = scriptParts(inst);
  if (parts.length <= MAX_INLINE_SCRIPT || !isPosixShell(shell)) {
    const argv = [...shell, parts.text()];
    return { argv, text: `RUN ${argv.join(" ")}`, history: argv, cleanup: none };
  }
  const f = await writeScriptFile(parts, tmpDir, 0o644);
  const text = `RUN ${shell.join(" ")} <script ${f.digest}, ${f.size} bytes>`;
  return {
    argv: [...shell, `. ${SCRIPT_TARGET}`], text, history: [text.slice("RUN ".length)],
    mount: { type: "bind", source: f.file, target: SCRIPT_TARGET, readonly: true },
    inPlaceArgv: [...shell, `. ${f.file}`], cleanup: f.cleanup,
  };
}
