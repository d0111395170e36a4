// The script a shell-form RUN hands its shell: inline (`sh -c SCRIPT`, as BuildKit does) or, when the script is
// too long to be one argument (Linux refuses an argument over 128 KiB), written to a file bound read-only into
// the sandbox and sourced from there (`sh -c '. FILE'`), so a big heredoc runs with its body never joined.

import { createHash } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { HeredocBody, type Instruction } from "../../dockerfile/index.ts";
import type { SandboxMount } from "../../exec/index.ts";
import { utf8Chunks } from "./copy-heredoc.ts";

type Run = Extract<Instruction, { kind: "RUN" }>;

/** Scripts longer than this (UTF-16 code units, so at most 3× in bytes: under the 128 KiB argument limit) go to a file. */
export const MAX_INLINE_SCRIPT = 32 * 1024;
/** Where the script file appears in the sandbox (a mount point in the stub layer, never in the diff). */
export const SCRIPT_TARGET = "/run/kb/run-script";

/** A RUN's argv, the text its cache key and history use, and the bind of its script file (if any). */
export interface RunScript {
  argv: string[];
  text: string;
  mount?: SandboxMount;
  cleanup(): Promise<void>;
}

/** The script of a shell-form RUN, as the pieces it is made of (a heredoc body is never joined). */
function scriptParts(inst: Run): HeredocBody {
  // A RUN that is only a heredoc runs its body as the script (BuildKit does the same).
  const only = inst.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(inst.command.join(" ").trim());
  if (only && !inst.heredocs[0]!.content.startsWith("#!")) return inst.heredocs[0]!.content;
  const parts = [inst.command.join(" ")];
  for (const h of inst.heredocs) parts.push("\n", ...h.content.pieces, h.content.endsWith("\n") ? "" : "\n", h.name);
  return new HeredocBody(parts);
}

/** argv of a RUN: exec form as is; shell form (heredocs included) through the stage's shell. */
export function runArgv(inst: Run, shell: string[]): string[] {
  if (inst.json) return inst.command;
  return [...shell, scriptParts(inst).text()];
}

const isPosixShell = (shell: string[]) => shell.length >= 2 && shell[shell.length - 1] === "-c" && /(^|\/)(ba|da|a|k|z|)sh$/.test(shell[0]!);

/**
 * The argv of a RUN; a long script of a POSIX shell is written under `tmpDir` (piece by piece) and sourced from
 * SCRIPT_TARGET instead. Its cache key and history text then name the script by digest and size.
 */
export async function prepareRunScript(inst: Run, shell: string[], tmpDir: string): Promise<RunScript> {
  const none = async () => {};
  if (inst.json) return { argv: inst.command, text: `RUN ${JSON.stringify(inst.command)}`, cleanup: none };
  const parts = scriptParts(inst);
  if (parts.length <= MAX_INLINE_SCRIPT || !isPosixShell(shell)) {
    const argv = [...shell, parts.text()];
    return { argv, text: `RUN ${argv.join(" ")}`, cleanup: none };
  }
  const dir = await mkdtemp(join(tmpDir, `${process.pid}-run-script-`));
  const file = join(dir, "script");
  const hash = createHash("sha256");
  let size = 0;
  try {
    const fh = await open(file, "w", 0o644);
    try {
      const buf = new Uint8Array(64 * 1024);
      for (const piece of parts.each()) {
        for (const bytes of utf8Chunks(piece, buf)) {
          hash.update(bytes);
          size += bytes.length;
          await fh.write(bytes);
        }
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const argv = [...shell, `. ${SCRIPT_TARGET}`];
  return {
    argv,
    text: `RUN ${shell.join(" ")} <script sha256:${hash.digest("hex")}, ${size} bytes>`,
    mount: { type: "bind", source: file, target: SCRIPT_TARGET, readonly: true },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
