// A throwaway root filesystem holding one compiled binary, exactly the shared libraries `ldd` lists for
// it (plus the loader) and nothing else: no Node, no Bun, no shell. Run things in it with runInRoot().
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** What goes into the root besides the binary: path inside the root → a host file to copy, or `{ text }`. */
export type ExtraFiles = Record<string, string | { text: string }>;

/** The absolute paths of the shared libraries and loader `ldd` lists for `binary` (none for a static one). */
export function sharedLibraries(binary: string): string[] {
  let out = "";
  try {
    out = execFileSync("ldd", [binary], { encoding: "utf8" });
  } catch {
    return []; // "not a dynamic executable"
  }
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/**
 * Makes a temp dir with `binary` at `/kb`, its libraries at their host paths, a 1777 `/tmp`, an empty
 * `/proc` (for a mount namespace's fresh proc), `/dev/{null,zero,random,urandom}` (needs root),
 * an `/etc/passwd`, and `extraFiles`. The caller
 * removes it.
 * @example const dir = makeThrowawayRoot("dist/kb", { "/ctx/Dockerfile": { text: "FROM scratch\n" } });
 */
export function makeThrowawayRoot(binary: string, extraFiles: ExtraFiles = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kb-throwaway-root-"));
  chmodSync(dir, 0o755);
  const put = (inRoot: string, from: string | { text: string }, mode?: number) => {
    const dest = path.join(dir, inRoot);
    mkdirSync(path.dirname(dest), { recursive: true });
    if (typeof from === "string") copyFileSync(from, dest); // follows symlinks: the real library bytes
    else writeFileSync(dest, from.text);
    if (mode !== undefined) chmodSync(dest, mode);
  };
  put("/kb", binary, 0o755);
  for (const lib of sharedLibraries(binary)) put(lib, lib, 0o755);
  put("/etc/passwd", { text: "root:x:0:0:root:/root:/kb\nnobody:x:65534:65534:nobody:/nonexistent:/kb\n" });
  put("/etc/group", { text: "root:x:0:\nnogroup:x:65534:\n" });
  for (const [inRoot, from] of Object.entries(extraFiles)) put(inRoot, from);
  for (const d of ["tmp", "proc", "root"]) mkdirSync(path.join(dir, d), { recursive: true });
  chmodSync(path.join(dir, "tmp"), 0o1777);
  // The few device nodes a container runtime gives even a FROM scratch image (Bun's spawn needs /dev/null).
  mkdirSync(path.join(dir, "dev"));
  for (const [name, minor] of [["null", 3], ["zero", 5], ["random", 8], ["urandom", 9]] as const) {
    execFileSync("mknod", ["-m", "666", path.join(dir, "dev", name), "c", "1", String(minor)]);
  }
  return dir;
}

/** Result of one command run inside a throwaway root. */
export interface RootRun { code: number; stdout: string; stderr: string }

/**
 * Runs `argv` (e.g. `["/kb", "version"]`) chrooted into `dir` in new mount and pid namespaces with a
 * fresh /proc (util-linux `unshare`; needs root or user namespaces). `env` is the whole environment.
 */
export function runInRoot(dir: string, argv: string[], env: Record<string, string> = {}): Promise<RootRun> {
  const args = ["--mount", "--pid", "--fork", `--root=${dir}`, "--wd=/", "--mount-proc", ...argv];
  return new Promise((resolve) => {
    execFile("/usr/bin/unshare", args, { env: { HOME: "/root", PATH: "/", ...env }, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `dist/kb`, compiled first when it is missing (`bun build.ts`). */
export function ensureCompiledKb(): string {
  const repo = path.join(import.meta.dir, "../..");
  const binary = path.join(repo, "dist/kb");
  if (!existsSync(binary)) execFileSync(process.execPath, ["build.ts"], { cwd: repo, stdio: "ignore" });
  return binary;
}
