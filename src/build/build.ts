// runBuild: context → Dockerfile → plan → stages → image → outputs. The one entry point of the build engine.

import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { relative } from "node:path";
import { Readable } from "node:stream";
import { KbError } from "../errors.ts";
import { openContext } from "../context/index.ts";
import { parseInstructions, DockerfileParser, type Node } from "../dockerfile/index.ts";
import { assembleImage } from "../image/assemble.ts";
import { hostPlatform } from "../image/platform.ts";
import type { EventSink } from "../log/events.ts";
import { createRegistryClient, defaultCredentials } from "../registry/index.ts";
import { openStore } from "../store/index.ts";
import { runStages } from "./engine.ts";
import type { BuildOptions } from "./options.ts";
import { parseTags, writeOutputs } from "./outputs.ts";
import { planBuild, type BuildPlan } from "./plan.ts";
import { registryClientOptions } from "./registry-options.ts";
import type { ReportLayer } from "./report.ts";
import { reportLayers } from "./report-layers.ts";
import { openHashMemo } from "./hash-memo.ts";
import { flushRemoteCache } from "./step-cache.ts";
import { useParallelCompression } from "../layer/parallel-compress.ts";
import { forEachPlatform, targetPlatforms, writeIndexOutputs } from "./multi-platform.ts";

export interface BuildResult {
  digest?: string;
  size?: number;
  pushed: string[];
  plan: BuildPlan;
  /** Milliseconds per phase (pull, run, snapshot, compress, push…), for the report. */
  timings: Record<string, number>;
  ms: number;
  /** Layers with their biggest files (only with --report). */
  layers?: ReportLayer[];
}

async function readNodes(file: string, display: string): Promise<{ nodes: Node[]; escapeToken: string; warnings: { message: string; line?: number }[] }> {
  const stream = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
  const parser = new DockerfileParser(stream, { file: display });
  const nodes: Node[] = [];
  for await (const n of parser) nodes.push(n);
  return { nodes, escapeToken: parser.escapeToken, warnings: parser.warnings.map((w) => ({ message: w.message, line: w.line })) };
}

/**
 * How errors name the Dockerfile: the path the user gave, else its path from the working directory (so the
 * error shows the source line and an editor can open it); "Dockerfile" for a context kb unpacked into a
 * temp dir (a tar, a URL), which is gone when the error is shown.
 */
function dockerfileDisplayName(given: string | undefined, real: string): string {
  if (given) return given;
  if (real.startsWith(`${tmpdir()}/kb-`)) return "Dockerfile";
  return relative(process.cwd(), real) || "Dockerfile";
}

/** Builds an image as `opts` says, reporting progress to `sink`. Throws KbError on failure; pushes nothing then. */
export async function runBuild(opts: BuildOptions, sink: EventSink, deps: { env?: Record<string, string | undefined>; stdin?: ReadableStream<Uint8Array>; signal?: AbortSignal } = {}): Promise<BuildResult> {
  const started = performance.now();
  const signal = deps.signal ?? new AbortController().signal;
  parseTags(opts);
  const platforms = targetPlatforms(opts);
  const keepGitDir = /^(1|true)$/i.test(opts.buildArgs.get("BUILDKIT_CONTEXT_KEEP_GIT_DIR") ?? "");
  const context = await openContext(opts.context, { dockerfile: opts.dockerfile, stdin: deps.stdin, subPath: opts.contextSubPath, env: deps.env, keepGitDir, signal });
  try {
    const display = dockerfileDisplayName(opts.dockerfile, context.dockerfilePath);
    const { nodes, escapeToken, warnings } = await readNodes(context.dockerfilePath, display);
    for (const w of warnings) sink.emit({ type: "warning", message: w.message, line: w.line });
    const parsed = parseInstructions(nodes, { file: display });
    for (const w of parsed.warnings) sink.emit({ type: "warning", message: w.message, line: w.line });
    const plans = platforms.map((platform) => planBuild(parsed, { buildArgs: opts.buildArgs, target: opts.target, platform, buildPlatform: hostPlatform(), escapeToken }));
    const plan = plans[0]!;
    if (opts.check) {
      sink.emit({ type: "info", message: `Dockerfile OK: ${parsed.stages.length} stage(s), ${plan.order.length} needed for the target` });
      return { pushed: [], plan, timings: {}, ms: performance.now() - started };
    }
    const store = await openStore(opts.cacheDir);
    const env = deps.env ?? process.env;
    const client = createRegistryClient(registryClientOptions(opts, env, sink));
    const sde = opts.sourceDateEpoch;
    const created = new Date(sde !== undefined ? sde * 1000 : Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const timings = new Map<string, number>();
    const extracted = { bytes: 0 };
    const hashMemo = await openHashMemo(store, context.root);
    const layer = { compression: opts.compression, level: opts.compressionLevel, parallel: useParallelCompression(env, opts.reproducible) };
    const built = await forEachPlatform(platforms, sink, async (_platform, psink, i) => {
      const state = await runStages({ opts, plan: plans[i]!, store, client, context, sink: psink, signal, lex: plans[i]!.lex, created, mtimeClamp: sde, timings, hashMemo, layer, extracted });
      const config = { ...state.config, config: { ...(state.config.config ?? {}) } };
      if (Object.keys(opts.labels).length) config.config.Labels = { ...(config.config.Labels ?? {}), ...opts.labels };
      return { config, image: assembleImage({ config, layers: state.layers.map((l) => l.layer), mediaTypes: "oci" }) };
    });
    await hashMemo.save().catch(() => undefined);
    await flushRemoteCache({ opts });
    for (const w of plan.warnings) sink.emit({ type: "warning", message: w.message, line: w.line });
    const { config, image } = built[0]!;
    const p0 = performance.now();
    const out = built.length === 1 ? await writeOutputs(image, opts, client, sink, signal) : await writeIndexOutputs(built.map((b) => b.image), opts, client, sink, signal);
    timings.set("output", performance.now() - p0);
    const ms = performance.now() - started;
    sink.emit({ type: "result", digest: out.digest, size: out.size, refs: out.pushed, ms });
    const layers = opts.reportPath ? await reportLayers(image, store, config.history ?? []) : undefined;
    return { digest: out.digest, size: out.size, pushed: out.pushed, plan, timings: Object.fromEntries(timings), ms, layers };
  } catch (e) {
    if (signal.aborted && !(e instanceof KbError)) throw new KbError("BUILD", "Cannot finish the build: it was interrupted", { cause: e });
    throw e;
  } finally {
    await context.cleanup();
  }
}
