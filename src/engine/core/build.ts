// runBuild: context → Dockerfile → plan → stages → image → outputs. The one entry point of the build engine.

import { openAsBlob } from "node:fs";
import { closeSandbox } from "./sandbox-choice.ts";
import { registerProcess, sweepLeftovers, unregisterProcess } from "../../store/sweep.ts";
import { reuseCreatedTimes } from "./created-reuse.ts";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { relative } from "node:path";
import { KbError } from "../../errors.ts";
import { collectGarbage } from "../../runtime.ts";
import { openContext } from "../../context/index.ts";
import { parseInstructions, DockerfileParser, type Node } from "../../dockerfile/index.ts";
import { assembleImage } from "../../image/assemble.ts";
import { hostPlatform } from "../../image/platform.ts";
import type { EventSink } from "../../log/events.ts";
import { createRegistryClient } from "../../registry/index.ts";
import { openStore, takeLease, type Lease } from "../../store/index.ts";
import { gcAfterBuild } from "./gc-after-build.ts";
import { startPushCheck } from "./push-check.ts";
import { runStages } from "./engine.ts";
import type { BuildOptions } from "./options.ts";
import { parseTags, writeOutputs } from "../outputs/outputs.ts";
import { planBuild, type BuildPlan } from "./plan.ts";
import { registryClientOptions } from "./registry-options.ts";
import type { ReportLayer } from "../report/report.ts";
import { reportLayers } from "../report/report-layers.ts";
import { openHashMemo } from "../trees/hash-memo.ts";
import { flushRemoteCache } from "./step-cache.ts";
import { useParallelCompression } from "../../layer/parallel-compress.ts";
import { forEachPlatform, targetPlatforms, writeIndexOutputs } from "./multi-platform.ts";
import { singleSnapshot } from "./single-snapshot.ts";
import { attachAttestations, checkAttestationOutputs } from "../../attest/attach.ts";
import { wantsAttestations } from "../../attest/options.ts";
import { prefetchingScanCache, storeScanCache } from "../../attest/sbom.ts";
import type { StageState } from "./stage-state.ts";
import { loadBuildSigningKey, signPushed } from "../../sign/build-signing.ts";

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
  const stream = (await openAsBlob(file)).stream() as ReadableStream<Uint8Array>;
  const parser = new DockerfileParser(stream, { file: display });
  const nodes: Node[] = [];
  for await (const n of parser) nodes.push(n);
  // A big Dockerfile (a large heredoc) leaves its read chunks behind: free them before the build allocates more.
  if ((await stat(file)).size >= 4 << 20) collectGarbage();
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
  const outer = deps.signal ?? new AbortController().signal;
  // A failed push check aborts the steps already running beside it.
  const inner = new AbortController();
  const signal = AbortSignal.any([outer, inner.signal]);
  parseTags(opts);
  const platforms = targetPlatforms(opts);
  checkAttestationOutputs(opts.attest, opts.outputs);
  const keepGitDir = /^(1|true)$/i.test(opts.buildArgs.get("BUILDKIT_CONTEXT_KEEP_GIT_DIR") ?? "");
  let lease: Lease | undefined;
  const context = await openContext(opts.context, { dockerfile: opts.dockerfile, stdin: deps.stdin, subPath: opts.contextSubPath, env: deps.env, keepGitDir, signal });
  let opened: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    const display = dockerfileDisplayName(opts.dockerfile, context.dockerfilePath);
    const { nodes, escapeToken, warnings } = await readNodes(context.dockerfilePath, display);
    for (const w of warnings) sink.emit({ type: "warning", message: w.message, line: w.line });
    const parsed = parseInstructions(nodes, { file: display });
    for (const w of parsed.warnings) sink.emit({ type: "warning", message: w.message, line: w.line });
    const plans = platforms.map((platform) => planBuild(parsed, { buildArgs: opts.buildArgs, target: opts.target, platform, buildPlatform: hostPlatform(), escapeToken, maxWord: opts.maxWordBytes }));
    const plan = plans[0]!;
    if (opts.check) {
      sink.emit({ type: "info", message: `Dockerfile OK: ${parsed.stages.length} stage(s), ${plan.order.length} needed for the target` });
      return { pushed: [], plan, timings: {}, ms: performance.now() - started };
    }
    const env = deps.env ?? process.env;
    const signKey = opts.attest?.signKey ? await loadBuildSigningKey(opts.attest.signKey, env, opts.tags.length > 0 && !opts.noPush) : undefined;
    const store = await openStore(opts.cacheDir);
    opened = store;
    await registerProcess(store);
    await sweepLeftovers(store); // what SIGKILLed builds left: temp dirs, staged secrets, RUN scratch dirs
    // Everything this build reads or writes in the store is pinned, so a concurrent `kb cache prune` keeps it.
    lease = await takeLease(store.dirs.root, store.dirs.locks);
    store.useLease(lease);
    const client = createRegistryClient(registryClientOptions(opts, env, sink));
    const pushCheck = startPushCheck(opts, client, env, inner);
    const sde = opts.sourceDateEpoch;
    const created = new Date(sde !== undefined ? sde * 1000 : Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const timings = new Map<string, number>();
    const extracted = { bytes: 0 };
    const cacheUploads: Promise<void>[] = [];
    const hashMemo = await openHashMemo(store, context.root);
    const scanCache = opts.attest?.sbom ? prefetchingScanCache(storeScanCache(store.cache)) : undefined;
    const layer = { compression: opts.compression, level: opts.compressionLevel, parallel: useParallelCompression(env, opts.reproducible), mtimeClamp: sde };
    const built = await forEachPlatform(platforms, sink, async (platform, psink, i) => {
      const stages: StageState[] = [];
      const onBase = scanCache ? (st: StageState) => st.baseImage && st.layers.length && scanCache.prescan(st.layers.map((l) => l.layer), signal) : undefined;
      const state = await runStages({ opts, plan: plans[i]!, store, client, context, sink: psink, signal, lex: plans[i]!.lex, created, mtimeClamp: sde, timings, hashMemo, layer, extracted, cacheUploads, onStage: (st) => stages.push(st), onBase });
      let config = { ...state.config, config: { ...(state.config.config ?? {}) } };
      if (Object.keys(opts.labels).length) config.config.Labels = { ...(config.config.Labels ?? {}), ...opts.labels };
      // Nothing changed since an earlier build: the same image, not a re-stamped one (SOURCE_DATE_EPOCH is fixed anyway).
      let layers = state.layers;
      if (opts.singleSnapshot) ({ layers, config } = await singleSnapshot(store, layers, config, layer, signal));
      if (sde === undefined && !opts.noCache) config = { ...(await reuseCreatedTimes(store, config)), config: config.config };
      return { config, platform, target: state, stages, image: assembleImage({ config, layers: layers.map((l) => l.layer), mediaTypes: "oci" }) };
    });
    await pushCheck.done();
    await hashMemo.save().catch(() => undefined);
    await flushRemoteCache({ cacheUploads });
    for (const w of plan.warnings) sink.emit({ type: "warning", message: w.message, line: w.line });
    const { config, image } = built[0]!;
    const p0 = performance.now();
    let out;
    if (wantsAttestations(opts.attest)) {
      const att = await attachAttestations(built, {
        attest: opts.attest!, name: opts.tags[0] ?? "image", dockerfile: { given: opts.dockerfile ?? "Dockerfile", real: context.dockerfilePath }, contextSpec: opts.context,
        target: opts.target, buildArgs: opts.buildArgs, secretIds: opts.secrets.map((x) => x.id), startedOn: new Date(Date.now() - (performance.now() - started)),
        sourceDateEpoch: opts.reproducible ? sde : undefined, reproducible: opts.reproducible, sink, timings, env, signal, scanCache,
      });
      out = await writeIndexOutputs(att.images, opts, client, sink, signal, att.annotations);
    } else {
      out = built.length === 1 ? await writeOutputs(image, opts, client, sink, signal) : await writeIndexOutputs(built.map((b) => b.image), opts, client, sink, signal);
    }
    timings.set("output", performance.now() - p0);
    if (signKey) await signPushed(client, out.pushed, out.digest as `sha256:${string}`, signKey, sink, signal);
    const ms = performance.now() - started;
    sink.emit({ type: "result", digest: out.digest, size: out.size, refs: out.pushed, ms });
    const layers = opts.reportPath ? await reportLayers(image, store, config.history ?? []) : undefined;
    await lease.release(); // this build's entries are now ordinary LRU entries for the GC
    await gcAfterBuild(store, opts.cacheMaxBytes, sink);
    return { digest: out.digest, size: out.size, pushed: out.pushed, plan, timings: Object.fromEntries(timings), ms, layers };
  } catch (e) {
    if (inner.signal.aborted) throw inner.signal.reason;
    if (signal.aborted && !(e instanceof KbError)) throw new KbError("BUILD", "Cannot finish the build: it was interrupted", { cause: e });
    throw e;
  } finally {
    await lease?.release();
    await closeSandbox({ opts });
    if (opened) await unregisterProcess(opened).catch(() => undefined);
    await context.cleanup();
  }
}
