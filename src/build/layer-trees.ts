// Per-layer trees for RUN: each layer extracted once (overlay whiteouts kept) and stacked as overlay lowerdirs.
// Trees are keyed by isolation flavour and diffID, so every build and stage on this machine shares them.

import { mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { extractTar } from "../layer/index.ts";
import { addTiming, type EngineEnv } from "./engine-types.ts";
import type { StageLayer } from "./stage-state.ts";

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** Root-owned trees (as root) and caller-owned trees (rootless) are not interchangeable. */
export function treeFlavour(): string {
  return isRoot() ? "root" : `u${process.getuid?.() ?? 0}`;
}

/** Where the tree of a layer lives (whether or not it exists yet). */
export function layerTreeDir(env: EngineEnv, diffId: string): string {
  return join(env.store.dirs.trees, `layer-${treeFlavour()}-${diffId.replace(/^sha256:/, "")}`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Returns the tree of one layer, extracting it if needed. */
export async function layerTree(env: EngineEnv, l: StageLayer): Promise<string> {
  const dir = layerTreeDir(env, l.diffId);
  if (await exists(join(dir, ".kb-complete"))) {
    await utimes(dir, new Date(), new Date()).catch(() => undefined);
    return join(dir, "root");
  }
  return env.store.withLock(`tree-${treeFlavour()}-${l.diffId.slice(7, 39)}`, async () => {
    if (await exists(join(dir, ".kb-complete"))) return join(dir, "root");
    const t0 = performance.now();
    const tmp = env.store.tempPath("-layer");
    await mkdir(join(tmp, "root"), { recursive: true });
    try {
      await extractTar(await l.layer.uncompressed(env.signal), join(tmp, "root"), {
        whiteouts: "keep-as-overlay",
        chown: isRoot(),
        devices: isRoot() ? "create" : "skip",
        onWarning: (m) => env.sink.emit({ type: "warning", message: m }),
      });
      await mkdir(join(tmp, ".kb-complete"));
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
    addTiming(env, "extract", performance.now() - t0);
    return join(dir, "root");
  });
}

/** Adopts a finished RUN's upperdir as the tree of the layer made from it (no second extraction). */
export async function adoptUpperDir(env: EngineEnv, diffId: string, upperParent: string): Promise<void> {
  const dir = layerTreeDir(env, diffId);
  if (await exists(join(dir, ".kb-complete"))) return;
  await mkdir(join(upperParent, ".kb-complete"), { recursive: true });
  await rename(upperParent, dir).catch(() => undefined);
}

/** The overlay lowerdirs of a stage, top first. */
export async function lowerDirs(env: EngineEnv, layers: StageLayer[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const l of layers) dirs.push(await layerTree(env, l));
  return dirs.reverse();
}
