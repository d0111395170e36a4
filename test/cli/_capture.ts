// Test helpers for the CLI: run main() in-process with captured output, or kb as a real subprocess.

import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { main } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";

/** The repository root (for the subprocess entry). */
export const REPO = path.resolve(import.meta.dir, "../..");

/** What a kb run printed and returned. */
export interface KbRun {
  code: number;
  out: string;
  err: string;
}

/** Options of {@link kb}. */
export interface KbRunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Text fed to the command as stdin. */
  stdin?: string;
}

/** Runs `kb ARGV` in-process through main() with a capturing io (no TTY). */
export async function kb(argv: string[], opts: KbRunOptions = {}): Promise<KbRun> {
  let out = "";
  let err = "";
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    isTTY: false,
    cwd: opts.cwd ?? process.cwd(),
    stdin: opts.stdin === undefined ? undefined : new Blob([opts.stdin]).stream(),
  };
  const code = await main(argv, io);
  return { code, out, err };
}

/** Runs `bun src/main.ts ARGV` as a child process (asynchronously, so in-process registries keep answering). */
export function kbProcess(argv: string[], opts: KbRunOptions = {}): Promise<KbRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO, "node_modules/.bin/bun"), [path.join(REPO, "src/main.ts"), ...argv], {
      cwd: opts.cwd ?? REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Runs a tool (skopeo) and returns its stdout; throws with stderr when it fails. */
export function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** `skopeo inspect` as JSON. */
export function skopeoInspect(...args: string[]): { Digest: string; Architecture?: string; Layers?: string[] } {
  return JSON.parse(tool("skopeo", ["inspect", ...args]));
}
