// createSandbox: runs one RUN in the kb-sandbox helper (namespaces + overlayfs), killing the tree on exit.

import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { KbError } from "../errors.ts";
import { resolveHelperPath } from "../helper/helper-path.ts";
import type { IdMapping } from "../helper/ids.ts";
import { encodeHelperConfig } from "./_config.ts";
import { createScratch } from "./_scratch.ts";
import { startNetHolder, type NetHolder } from "./_net-holder.ts";
import type { IsolationMode, RunOptions, RunResult, RunSpec, Sandbox } from "./types.ts";

/** Options of {@link createSandbox}. */
export interface SandboxOptions {
  /** "root" (no user namespace) or "rootless"; "container" has its own backend (container-mode.ts). */
  isolation: IsolationMode;
  /** @default resolveHelperPath() */
  helperPath?: string;
  /** Required for "rootless": from chooseIsolation(). */
  idMap?: IdMapping;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills every live helper when kb exits or is interrupted (the namespaces die with them). */
function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => { for (const c of live) c.kill("SIGKILL"); };
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      killAll();
      if (process.listenerCount(sig) === 1) { process.off(sig, onSignal); process.kill(process.pid, sig); }
    };
    process.on(sig, onSignal);
  }
}

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    stream.on("data", (d: Buffer) => { if (text.length < 8192) text += d.toString(); });
    stream.on("close", () => resolve(text));
    stream.on("error", () => resolve(text));
  });
}

/**
 * Creates a sandbox that runs each RUN as pid 1 of fresh namespaces over an overlay of the layers.
 * Setup failures throw KbError "SANDBOX"; a command's failure is an exit code. Abort rejects with
 * the signal's reason after the tree is dead; a timeout resolves with `timedOut: true`.
 * @example
 * const sb = createSandbox({ isolation: "root" });
 * const r = await sb.run(spec, { timeoutMs: 60_000 });
 */
export function createSandbox(opts: SandboxOptions): Sandbox {
  if (opts.isolation === "container") {
    throw new KbError("SANDBOX", 'Cannot create a namespace sandbox for isolation "container"', {
      hint: "use runInContainer() from container-mode.ts for container isolation",
    });
  }
  if (opts.isolation === "rootless" && !opts.idMap) {
    throw new KbError("SANDBOX", 'Cannot create a rootless sandbox: no id mapping given', { hint: "pass chooseIsolation(...).idMap" });
  }
  const idMap = opts.isolation === "rootless" ? opts.idMap : undefined;
  let holder: Promise<NetHolder> | undefined;
  return {
    isolation: opts.isolation,
    async run(spec, runOpts = {}) {
      const helper = opts.helperPath ?? (await resolveHelperPath());
      if (spec.network === "sandbox" && opts.isolation === "root" && spec.pastaPath && !spec.netnsPath) {
        // Root mode: one namespace with pasta for every RUN of this sandbox (a build), joined by each.
        holder ??= startNetHolder(helper, spec.pastaPath, spec.scratchDir).then((h) => { live.add(h.child); hookProcessExit(); return h; });
        const h = await holder.catch((e) => { holder = undefined; throw e; });
        if (h.child.exitCode !== null || h.child.signalCode !== null) { holder = undefined; return this.run(spec, runOpts); }
        spec = { ...spec, netnsPath: h.nsPath };
      }
      return runHelper(helper, spec, idMap, runOpts);
    },
    async close() {
      if (holder) (await holder.catch(() => undefined))?.stop();
      holder = undefined;
    },
  };
}

/** Runs the helper once (also used by the isolation probe with `probe`). */
export async function runHelper(helper: string, spec: RunSpec, idMap: IdMapping | undefined, opts: RunOptions, probe = false): Promise<RunResult> {
  opts.signal?.throwIfAborted();
  const scratch = createScratch(spec);
  hookProcessExit();
  try {
    const config = encodeHelperConfig(spec, scratch, idMap, probe);
    const child = spawn(helper, ["run"], { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    live.add(child);
    let timedOut = false;
    const kill = () => child.kill("SIGKILL");
    const onAbort = () => kill();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; kill(); }, opts.timeoutMs) : undefined;
    child.stdout!.on("data", (d: Buffer) => spec.stdout?.(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    child.stderr!.on("data", (d: Buffer) => spec.stderr?.(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    const statusText = collect(child.stdio[4] as Readable);
    (child.stdio[3] as Writable).on("error", () => {});
    (child.stdio[3] as Writable).end(config);
    const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on("error", (e) => reject(new KbError("SANDBOX", `Cannot start the sandbox helper "${helper}": ${e.message}`, { cause: e })));
      child.on("close", (c, s) => resolve([c, s]));
    }).finally(() => {
      live.delete(child);
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    });
    opts.signal?.throwIfAborted();
    if (timedOut) return { exitCode: 137, signal: "SIGKILL", timedOut: true };
    if (sig) return { exitCode: 128 + 9, signal: sig };
    return interpret(await statusText, code ?? 125);
  } finally {
    scratch.dispose();
    clearOverlayWork(spec.workDir);
  }
}

/** Overlay leaves a mode-000 "work" dir in the workdir: make it removable by the caller. */
function clearOverlayWork(workDir: string): void {
  try {
    chmodSync(path.join(workDir, "work"), 0o700);
    rmSync(path.join(workDir, "work"), { recursive: true, force: true });
  } catch {
    // absent (the mount never happened) or not ours: nothing to clear
  }
}

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM" };

function interpret(status: string, code: number): RunResult {
  const line = status.split("\n")[0] ?? "";
  if (line.startsWith("error ") && !line.startsWith("error exec:")) {
    throw new KbError("SANDBOX", `Cannot set up the RUN sandbox: ${line.slice(6)}`, {
      hint: 'run "kb doctor" to see which isolation this machine allows',
    });
  }
  const m = /^signal (\d+)/.exec(line);
  if (m) return { exitCode: code, signal: SIGNALS[Number(m[1])] ?? `SIG${m[1]}` };
  if (!line && code === 125) {
    throw new KbError("SANDBOX", "Cannot set up the RUN sandbox: the helper exited with 125 and no status", {
      hint: "check that the kb-sandbox helper matches this kb version",
    });
  }
  return { exitCode: code };
}
