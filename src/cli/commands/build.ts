// `kb build`: flags → BuildOptions → runBuild, with a reporter for people or machines and Ctrl-C handling.

import { runBuild } from "../../engine/core/build.ts";
import { KbError } from "../../errors.ts";
import { createReporter, fanOut, type ProgressMode } from "../../log/index.ts";
import { createTimelineSink } from "../../engine/report/report.ts";
import { parseFlags, renderFlagHelp } from "../flags.ts";
import type { CliIo } from "../io.ts";
import { buildFlags } from "./build-flags.ts";
import { toBuildOptions } from "./build-options.ts";

export function buildHelp(): string {
  return [
    "Usage: kb build [flags] [CONTEXT]",
    "",
    "Build an image from a Dockerfile, without a daemon and without root.",
    "CONTEXT is a directory (default .), a tar or tar.gz file, or - for a tar (or a lone Dockerfile, no context) on stdin.",
    "",
    "Examples:",
    "  kb build -t registry.example/app:1 .",
    "  kb build --output type=oci,dest=out/ --no-push examples/hello",
    "  kb build -f build/Dockerfile --build-arg VERSION=2 --target runtime -t localhost:5000/app .",
    "  kb build --context dir:///workspace --destination reg/app:1 --cache-repo reg/app/cache   # Kaniko style",
    "",
    "Flags:",
    renderFlagHelp(buildFlags),
    "",
    "Exit codes: 0 built, 1 build failed, 2 usage error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).",
    "",
  ].join("\n");
}

function progressMode(flags: ReturnType<typeof parseFlags>, io: CliIo): ProgressMode {
  const q = flags.values.get("quiet") === true;
  if (q) return "quiet";
  const lf = flags.values.get("log-format");
  if (Array.isArray(lf) && lf[lf.length - 1] === "json") return "json";
  const p = flags.values.get("progress");
  const v = Array.isArray(p) ? p[p.length - 1] : "auto";
  if (v === "json" || v === "plain" || v === "auto") return v === "auto" ? (io.isTTY ? "auto" : "plain") : v;
  throw new KbError("USAGE", `Cannot use --progress "${v}"`, { hint: "auto, plain or json" });
}

function verbosityLevel(flags: ReturnType<typeof parseFlags>): number {
  const v = flags.values.get("verbosity");
  const name = Array.isArray(v) ? v[v.length - 1] : "info";
  const levels: Record<string, number> = { panic: 0, fatal: 0, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
  if (!(name! in levels)) throw new KbError("USAGE", `Cannot use --verbosity "${name}"`, { hint: Object.keys(levels).join(", ") });
  return levels[name!]!;
}

export async function runBuildCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(buildHelp());
    return 0;
  }
  const flags = parseFlags(argv, buildFlags);
  const opts = toBuildOptions(flags, io.env);
  const mode = progressMode(flags, io);
  const reporter = createReporter({ mode, write: io.err, tty: io.isTTY, timestamps: flags.values.get("log-timestamp") === true, level: verbosityLevel(flags) });
  for (const n of flags.notices) reporter.emit({ type: "warning", message: n });
  const memory = createTimelineSink();
  const sink = opts.reportPath ? fanOut(reporter, memory) : reporter;
  const controller = new AbortController();
  const started = performance.now();
  let interrupted: "SIGINT" | "SIGTERM" | undefined;
  // `on`, not `once`: while this listener is registered the sandbox's own signal hook does not re-raise the
  // signal, so the build unwinds (RUN scratch dirs removed, temp files dropped). A second signal stops at once.
  const onSignal = (sig: "SIGINT" | "SIGTERM") => () => {
    if (controller.signal.aborted) process.exit(signalExitCode(sig));
    interrupted = sig;
    controller.abort(new KbError("BUILD", `Cannot finish the build: interrupted by ${sig}`));
  };
  const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM") };
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);
  try {
    const result = await runBuild(opts, sink, { env: io.env, stdin: opts.context === "-" || opts.dockerfile === "-" ? io.stdin : undefined, signal: controller.signal });
    if (opts.reportPath) {
      const { writeReport } = await import("../../engine/report/report.ts");
      await writeReport(opts.reportPath, result, memory.events);
    }
    if (mode === "quiet" && result.digest) io.out(`${result.digest}\n`);
    return 0;
  } catch (e) {
    // A failed build still gets its report: the steps up to the failure, and why it stopped.
    if (opts.reportPath) {
      const { writeReport } = await import("../../engine/report/report.ts");
      const why = e instanceof Error ? e.message : String(e);
      await writeReport(opts.reportPath, { pushed: [], ms: performance.now() - started, timings: {} }, memory.events, [], why).catch(() => undefined);
    }
    // Interrupted: the shell convention, 128 + the signal number (Ctrl-C 130, SIGTERM 143).
    if (interrupted && e instanceof Error) Object.assign(e, { exitCode: signalExitCode(interrupted) });
    throw e;
  } finally {
    process.off("SIGINT", handlers.SIGINT);
    process.off("SIGTERM", handlers.SIGTERM);
  }
}

/** 128 + the signal's number, as shells report a process killed by it. */
export function signalExitCode(sig: "SIGINT" | "SIGTERM"): number {
  return sig === "SIGINT" ? 130 : 143;
}
