// resolveHelperPath: where the kb-sandbox binary is: the embedded copy of a compiled kb, extracted
// once into a private exec-capable dir, or (from source) a built one in dist/ or the cache.

import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync, chmodSync, closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync,
  readdirSync, renameSync, rmSync, statSync, writeSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KbError } from "../errors.ts";
import { embeddedFile, isCompiledBinary, type EmbeddedFile } from "../runtime.ts";

// Defined by build.ts: the embedded helper's name prefix and its sha256 (hex).
declare const KB_HELPER_EMBED: string | undefined;
declare const KB_HELPER_SHA256: string | undefined;

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

/** The private cache dir for helpers: `$XDG_CACHE_HOME/kb/bin` or `~/.cache/kb/bin`. */
export function helperCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || homedir(), ".cache");
  return path.join(base, "kb", "bin");
}

/**
 * Where an embedded helper may be extracted, best first: the cache dir, `$XDG_RUNTIME_DIR/kb/bin`,
 * then `<tmpdir>/kb-<uid>/bin`. Each is used only if private (0700, ours) and not mounted noexec.
 */
export function helperExtractDirs(): string[] {
  const dirs = [helperCacheDir()];
  if (process.env.XDG_RUNTIME_DIR) dirs.push(path.join(process.env.XDG_RUNTIME_DIR, "kb", "bin"));
  dirs.push(path.join(tmpdir(), `kb-${process.getuid?.() ?? "user"}`, "bin"));
  return dirs;
}

let resolved: string | undefined;
let building: Promise<string> | undefined;

/**
 * Finds the sandbox helper: `$KB_SANDBOX_HELPER`; in a compiled kb, its embedded copy (extracted once,
 * sha256-checked, to the first private exec-capable dir of {@link helperExtractDirs}); from source,
 * `<repo>/dist/kb-sandbox-<arch>`, then the cache dir, building it there with scripts/build-helper.sh.
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
  if (resolved && executable(resolved)) return resolved;
  const embedded = typeof KB_HELPER_EMBED === "string" ? embeddedFile(KB_HELPER_EMBED) : undefined;
  const sha = typeof KB_HELPER_SHA256 === "string" ? KB_HELPER_SHA256 : "";
  if (embedded && sha) return (resolved = await extractEmbeddedHelper(embedded, sha, helperExtractDirs()));
  if (isCompiledBinary()) {
    const cached = path.join(helperCacheDir(), name);
    if (executable(cached)) return cached;
    throw new KbError("SANDBOX", `Cannot find the sandbox helper "${name}": this kb binary was built without it`, {
      hint: `set KB_SANDBOX_HELPER to a kb-sandbox binary for ${helperArch()}, or use a kb release that embeds it`,
    });
  }
  for (const p of [path.join(REPO, "dist", name), path.join(helperCacheDir(), name)]) if (executable(p) && !olderThanSources(p)) return p;
  building ??= buildHelper(name).finally(() => { building = undefined; });
  return building;
}

/**
 * Writes `file` as `kb-sandbox-<sha256 prefix>` into the first of `dirs` that is private and lets it
 * run; reuses an existing copy whose sha256 matches. Throws when no dir works or the bytes differ.
 * @example const p = await extractEmbeddedHelper(embeddedFile("kb-sandbox-x86_64")!, sha, helperExtractDirs());
 */
export async function extractEmbeddedHelper(file: EmbeddedFile, sha256: string, dirs: string[]): Promise<string> {
  const reasons: string[] = [];
  for (const dir of dirs) {
    const target = path.join(dir, `kb-sandbox-${sha256.slice(0, 16)}`);
    try {
      privateDir(dir);
      if (!(existsSync(target) && fileSha256(target) === sha256)) await writeVerified(file, sha256, target);
      if (runs(target)) return target;
      reasons.push(`"${dir}" does not let programs run (mounted noexec?)`);
    } catch (e) {
      if (e instanceof KbError && e.code === "BLOB_DIGEST_MISMATCH") throw e;
      reasons.push((e as Error).message);
    }
  }
  throw new KbError("SANDBOX", `Cannot extract the sandbox helper: ${reasons.join("; ")}`, {
    hint: "set XDG_CACHE_HOME to a private directory on an exec-capable filesystem, or set KB_SANDBOX_HELPER",
  });
}

/**
 * Makes `dir` exist with mode 0700; refuses a symlink, or a dir or parent owned by someone else
 * (who could swap the helper between our check and our exec, e.g. a pre-made /tmp/kb-<uid>).
 */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  for (const d of [dir, path.dirname(dir)]) {
    const st = lstatSync(d);
    if (!st.isDirectory()) throw new Error(`"${d}" is not a directory`);
    if (uid !== undefined && st.uid !== uid) throw new Error(`"${d}" is owned by uid ${st.uid}, not ${uid}`);
  }
  if ((lstatSync(dir).mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

async function writeVerified(file: EmbeddedFile, sha256: string, target: string): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o700);
  const hash = createHash("sha256");
  try {
    const reader = file.stream().getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      hash.update(r.value);
      for (let off = 0; off < r.value.length; ) off += writeSync(fd, r.value, off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const got = hash.digest("hex");
  if (got !== sha256) {
    rmSync(tmp, { force: true });
    throw new KbError("BLOB_DIGEST_MISMATCH", `Cannot extract the sandbox helper: its sha256 is "${got}", expected "${sha256}"`, {
      hint: "this kb binary is damaged: download it again and check it against SHA256SUMS",
    });
  }
  chmodSync(tmp, 0o700);
  renameSync(tmp, target);
}

function fileSha256(p: string): string {
  const hash = createHash("sha256");
  const fd = openSync(p, "r");
  try {
    const buf = new Uint8Array(64 * 1024);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** From source: a built helper older than any helper source file lacks its newest commands; rebuild it. */
function olderThanSources(p: string): boolean {
  const dir = path.join(REPO, "src", "exec", "helper");
  try {
    const built = statSync(p).mtimeMs;
    return readdirSync(dir).some((f) => f.endsWith(".c") && statSync(path.join(dir, f)).mtimeMs > built);
  } catch {
    return false;
  }
}

/** True when `kb-sandbox version` starts, i.e. the filesystem allows exec. */
function runs(p: string): boolean {
  try {
    return execFileSync(p, ["version"], { encoding: "utf8", timeout: 10_000, stdio: "pipe" }).startsWith("kb-sandbox");
  } catch {
    return false;
  }
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
