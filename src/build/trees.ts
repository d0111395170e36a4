// Extracted filesystems in the store: made once under a lock in a temp dir, renamed into place when complete,
// reused by every later build. Merged trees (for COPY --from and bind mounts) and per-layer trees (for RUN).

import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { basename, join } from "node:path";
import { extractTar, type ExtractOptions } from "../layer/index.ts";
import { addTiming, type EngineEnv } from "./engine-types.ts";
import type { StageLayer } from "./stage-state.ts";

/** The chain id of a layer stack (OCI image-spec config.md: ChainID). */
export function chainId(diffIds: string[]): string {
  let chain = "";
  for (const d of diffIds) chain = chain ? `sha256:${createHash("sha256").update(`${chain} ${d}`).digest("hex")}` : d;
  return chain;
}

export const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

const complete = (dir: string) => stat(join(dir, ".kb-complete")).then(() => true, () => false);

/**
 * Returns `dir/root`, filling it with `layers` extracted in order the first time (under a lock, in a temp dir
 * renamed into place only when whole, so a crash never leaves a half tree that looks done).
 */
export async function extractedTree(
  env: EngineEnv, dir: string, layers: StageLayer[], whiteouts: ExtractOptions["whiteouts"],
  fixImplicit?: (root: string, implicitDirs: string[]) => Promise<void>,
): Promise<string> {
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
        const implicit: string[] = [];
        for (const l of layers) {
          await extractTar(await l.layer.uncompressed(env.signal), join(tmp, "root"), {
            whiteouts,
            chown: isRoot(),
            devices: isRoot() ? "create" : "skip",
            onWarning: (m) => env.sink.emit({ type: "warning", message: m }),
            onImplicitDir: fixImplicit ? (d) => void implicit.push(d) : undefined,
          });
        }
        await fixImplicit?.(join(tmp, "root"), implicit);
        await mkdir(join(tmp, ".kb-complete"));
        await rm(dir, { recursive: true, force: true });
        await rename(tmp, dir);
        break;
      } catch (e) {
        await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        if (env.signal.aborted || attempt >= (env.opts.extractRetries ?? 0)) throw e;
        env.sink.emit({ type: "warning", message: `unpacking layers failed (${(e as Error).message}); trying again (${attempt + 1}/${env.opts.extractRetries})` });
      }
    }
    addTiming(env, "extract", performance.now() - t0);
    return join(dir, "root");
  });
}

/** The merged filesystem of `layers` (whiteouts applied). Owners are kept when kb runs as root. */
export function mergedTree(env: EngineEnv, layers: StageLayer[]): Promise<string> {
  const id = chainId(layers.map((l) => l.diffId)).replace(/^sha256:/, "") || "empty";
  return extractedTree(env, join(env.store.dirs.trees, `merged-${id}`), layers, "apply");
}
