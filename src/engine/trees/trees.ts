// Extracted filesystems in the store: made once under a lock in a temp dir, renamed into place when complete,
// reused by every later build. Merged trees (for COPY --from and bind mounts) and per-layer trees (for RUN).

import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { basename, join } from "node:path";
import { KbError } from "../../errors.ts";
import { extractTar, type ExtractOptions } from "../../layer/index.ts";
import { addTiming, type EngineEnv } from "../core/engine-types.ts";
import type { StageLayer } from "../core/stage-state.ts";

/** The chain id of a layer stack (OCI image-spec config.md: ChainID). */
export function chainId(diffIds: string[]): string {
  let chain = "";
  for (const d of diffIds) chain = chain ? `sha256:${createHash("sha256").update(`${chain} ${d}`).digest("hex")}` : d;
  return chain;
}

/** Default of --max-extract: far above any real image, far below filling a disk with a bomb. */
export const DEFAULT_MAX_EXTRACT = 64 * 2 ** 30;

/** Whether `e`, or an error it wraps, is the extractor's size limit (a retry would hit it again). */
const isOverLimit = (e: unknown): boolean =>
  e instanceof KbError && ((e.code === "LAYER_INVALID" && /holds more than "\d+" bytes/.test(e.message)) || isOverLimit(e.cause));

export const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

const complete = (dir: string) => stat(join(dir, ".kb-complete")).then(() => true, () => false);

/**
 * Returns `dir/root`, filling it with `fill` the first time (under a lock, in a temp dir renamed into place only
 * when whole, so a crash never leaves a half tree that looks done).
 */
export async function buildTree(env: EngineEnv, dir: string, fill: (root: string) => Promise<void>, timing = "extract"): Promise<string> {
  await env.store.pin("tree", basename(dir)); // a running build's trees are kept by prune and GC (store/leases.ts)
  if (await complete(dir)) {
    await utimes(dir, new Date(), new Date()).catch(() => undefined);
    return join(dir, "root");
  }
  const lockName = `tree-${createHash("sha256").update(dir).digest("hex").slice(0, 24)}`;
  return env.store.withLock(lockName, async () => {
    if (await complete(dir)) return join(dir, "root");
    const t0 = performance.now();
    // --image-fs-extract-retry: a failed unpack starts again from an empty temp tree.
    for (let attempt = 0; ; attempt++) {
      const tmp = env.store.tempPath("-tree");
      await mkdir(join(tmp, "root"), { recursive: true });
      try {
        await fill(join(tmp, "root"));
        await mkdir(join(tmp, ".kb-complete"));
        await rm(dir, { recursive: true, force: true });
        await rename(tmp, dir);
        break;
      } catch (e) {
        await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        if (env.signal.aborted || isOverLimit(e) || attempt >= (env.opts.extractRetries ?? 0)) throw e;
        env.sink.emit({ type: "warning", message: `unpacking layers failed (${(e as Error).message}); trying again (${attempt + 1}/${env.opts.extractRetries})` });
      }
    }
    addTiming(env, timing, performance.now() - t0);
    return join(dir, "root");
  });
}

/** Returns `dir/root`, filling it with `layers` extracted in order the first time (see buildTree). */
export function extractedTree(
  env: EngineEnv, dir: string, layers: StageLayer[], whiteouts: ExtractOptions["whiteouts"],
  fixImplicit?: (root: string, implicitDirs: string[]) => Promise<void>,
  onEntry?: ExtractOptions["onEntry"],
): Promise<string> {
  const limit = env.opts.maxExtractBytes ?? DEFAULT_MAX_EXTRACT;
  const used = (env.extracted ??= { bytes: 0 });
  const before = used.bytes;
  return buildTree(env, dir, async (root) => {
    used.bytes = before; // a retried unpack (--image-fs-extract-retry) counts its bytes once
    const implicit: string[] = [];
    for (const l of layers) {
      const r = await extractTar(await l.layer.uncompressed(env.signal), root, {
        maxBytes: limit - used.bytes,
        whiteouts,
        chown: isRoot(),
        devices: isRoot() ? "create" : "skip",
        onWarning: (m) => env.sink.emit({ type: "warning", message: m }),
        onImplicitDir: fixImplicit ? (d) => void implicit.push(d) : undefined,
        onEntry,
      }).catch(async (e) => {
        if (isOverLimit(e)) {
          throw new KbError("LAYER_EXTRACT", `Cannot unpack layer "${l.diffId}": this build would unpack more than ${limit} bytes of layer content (--max-extract)`, {
            hint: "The image may be a decompression bomb. If you trust it, pass a larger --max-extract (e.g. --max-extract 200GB)",
            cause: e,
          });
        }
        // Which of the image's layers is bad (the blob digest, as the manifest and the registry name it).
        if (e instanceof KbError && e.code === "LAYER_INVALID") {
          const blob = await l.layer.digest().catch(() => l.diffId);
          // A base image's layer is reported at its FROM line, where Docker fails (it unpacks there; kb when first needed).
          throw new KbError("LAYER_INVALID", `Cannot unpack layer ${blob}: ${e.message}`, { hint: e.hint, cause: e, location: l.from });
        }
        throw e;
      });
      used.bytes += r.bytes;
    }
    await fixImplicit?.(root, implicit);
  });
}
