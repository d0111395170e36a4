// Container mode (Kaniko's model): RUN directly in / of a throwaway container, snapshot by a stat walk.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { KbError } from "../errors.ts";
import { diffAgainstIndex, indexTree, type TreeIndex } from "../snapshot/stat-walk.ts";
import type { DiffEntry } from "../snapshot/types.ts";
import type { RunOptions, RunResult, RunSpec } from "./types.ts";

/** What container mode needs of a RUN spec: no layers, no namespaces. */
export type ContainerRunSpec = Pick<RunSpec, "args" | "env" | "cwd" | "user" | "stdout" | "stderr" | "stdin">;

/** Decodes the octal escapes (\040 for a space) the kernel writes in /proc/self/mountinfo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points from mountinfo text (field 5), decoded. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo.split("\n").map((l) => l.split(" ")[4]).filter((p): p is string => !!p && p.startsWith("/")).map(unescapeMount);
}

/**
 * Paths a container-mode snapshot must never walk or touch, relative to `root`: /proc, /sys,
 * /dev, every mount point below root (bind-mounted /etc/hosts, secrets, volumes) and `extra`
 * (kb's own folder, its store).
 */
export function containerSkipPaths(root = "/", extra: string[] = [], mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string[] {
  const r = path.resolve(root);
  const under = (p: string) => {
    const rel = path.relative(r, path.resolve(p));
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : undefined;
  };
  const out = new Set<string>();
  for (const p of [...(r === "/" ? ["/proc", "/sys", "/dev"] : []), ...parseMountPoints(mountinfo), ...extra]) {
    const rel = under(p);
    if (rel) out.add(rel);
  }
  return [...out].sort();
}

/**
 * Runs a command in place (no namespaces) as the RUN's user, in its own process group, killed
 * with it on abort or timeout. Supplementary groups are not applied (node cannot set them).
 */
export async function runInContainer(spec: ContainerRunSpec, opts: RunOptions = {}): Promise<RunResult> {
  opts.signal?.throwIfAborted();
  const env = Object.fromEntries(spec.env.map((e) => { const i = e.indexOf("="); return i < 0 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)]; }));
  const child = spawn(spec.args[0], spec.args.slice(1), {
    cwd: spec.cwd, env, uid: spec.user.uid, gid: spec.user.gid, detached: true, stdio: ["ignore", "pipe", "pipe"],
  });
  let timedOut = false;
  const kill = () => { try { process.kill(-child.pid!, "SIGKILL"); } catch { child.kill("SIGKILL"); } };
  const onAbort = () => kill();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; kill(); }, opts.timeoutMs) : undefined;
  child.stdout.on("data", (d: Buffer) => spec.stdout?.(new Uint8Array(d)));
  child.stderr.on("data", (d: Buffer) => spec.stderr?.(new Uint8Array(d)));
  try {
    const [code, sig] = await new Promise<[number | null, string | null]>((resolve, reject) => {
      child.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") resolve([127, null]);
        else reject(new KbError("RUN_FAILED", `Cannot run "${spec.args[0]}": ${e.message}`, { cause: e }));
      });
      child.on("close", (c, s) => resolve([c, s]));
    });
    kill(); // the command is done: its process group goes with it, as a pid namespace would
    opts.signal?.throwIfAborted();
    if (timedOut) return { exitCode: 137, signal: "SIGKILL", timedOut: true };
    return sig ? { exitCode: 128 + 9, signal: sig } : { exitCode: code ?? 1 };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** Container mode for one RUN: index before, run, diff after. */
export interface ContainerRun {
  run(spec: ContainerRunSpec, opts?: RunOptions): Promise<RunResult>;
  diff(): AsyncGenerator<DiffEntry>;
}

/**
 * Indexes `root` (default "/") skipping containerSkipPaths(root, skip), and returns a runner whose
 * `diff()` yields the changes of the run. The base image is unpacked into / beforehand by the caller.
 * @example const c = await createContainerRun({ skip: ["/kb"] }); await c.run(spec); for await (const e of c.diff()) ...
 */
export async function createContainerRun(opts: { root?: string; skip?: string[] } = {}): Promise<ContainerRun> {
  const root = opts.root ?? "/";
  const skip = containerSkipPaths(root, opts.skip ?? []);
  const index: TreeIndex = await indexTree(root, { skip });
  return {
    run: (spec, runOpts) => runInContainer(spec, runOpts),
    diff: () => diffAgainstIndex(root, index, { skip }),
  };
}
