// resolveHelperPath: where the kb-sandbox binary is, building it into a private cache on first use.

import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, chmodSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KbError } from "../errors.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The helper's architecture suffix: `x86_64` or `arm64`. */
export function helperArch(): string {
  return process.arch === "x64" ? "x86_64" : process.arch;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The private cache dir for built helpers: `$XDG_CACHE_HOME/kb/bin` or `~/.cache/kb/bin`. */
export function helperCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || homedir(), ".cache");
  return path.join(base, "kb", "bin");
}

let building: Promise<string> | undefined;

/**
 * Finds the sandbox helper: `$KB_SANDBOX_HELPER`, then `<repo>/dist/kb-sandbox-<arch>`, then the
 * cache dir; builds it there with scripts/build-helper.sh when a compiler exists. (The compiled
 * kb binary will extract its embedded copy here too.)
 * @example const helper = await resolveHelperPath();
 */
export async function resolveHelperPath(): Promise<string> {
  const name = `kb-sandbox-${helperArch()}`;
  const env = process.env.KB_SANDBOX_HELPER;
  if (env) {
    if (executable(env)) return env;
    throw new KbError("SANDBOX", `Cannot use the sandbox helper "${env}": it is not an executable file`, {
      hint: "unset KB_SANDBOX_HELPER or point it at a kb-sandbox binary",
    });
  }
  for (const p of [path.join(REPO, "dist", name), path.join(helperCacheDir(), name)]) if (executable(p)) return p;
  building ??= buildHelper(name).finally(() => { building = undefined; });
  return building;
}

async function buildHelper(name: string): Promise<string> {
  const script = path.join(REPO, "scripts", "build-helper.sh");
  const dir = helperCacheDir();
  if (!existsSync(script)) {
    throw new KbError("SANDBOX", `Cannot find the sandbox helper "${name}": no build script at "${script}"`, {
      hint: "set KB_SANDBOX_HELPER to a kb-sandbox binary",
    });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile("bash", [script, dir], (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }));
  });
  const p = path.join(dir, name);
  if (out.code !== 0 || !executable(p)) {
    throw new KbError("SANDBOX", `Cannot build the sandbox helper "${name}": ${out.stderr.trim() || `exit ${out.code}`}`, {
      hint: "install a C compiler (apt-get install musl-tools) or set KB_SANDBOX_HELPER",
    });
  }
  return p;
}
