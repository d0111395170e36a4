// Per-layer trees for RUN: each layer extracted once (overlay whiteouts kept) and stacked as overlay lowerdirs.
// Trees are keyed by isolation flavour and diffID, so every build and stage on this machine shares them.

import { mkdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import type { EngineEnv } from "./engine-types.ts";
import type { StageLayer } from "./stage-state.ts";
import { extractedTree, isRoot } from "./trees.ts";

/** Root-owned trees (as root) and caller-owned trees (rootless) are not interchangeable. */
export function treeFlavour(): string {
  return isRoot() ? "root" : `u${process.getuid?.() ?? 0}`;
}

/** Where the tree of a layer lives (whether or not it exists yet). */
export function layerTreeDir(env: EngineEnv, diffId: string): string {
  return join(env.store.dirs.trees, `layer-${treeFlavour()}-${diffId.replace(/^sha256:/, "")}`);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Returns the tree of one layer (overlay whiteouts kept), extracting it if needed. */
export function layerTree(env: EngineEnv, l: StageLayer): Promise<string> {
  return extractedTree(env, layerTreeDir(env, l.diffId), [l], "keep-as-overlay");
}

/** Adopts a finished RUN's upperdir as the tree of the layer made from it (no second extraction). */
export async function adoptUpperDir(env: EngineEnv, diffId: string, upperParent: string): Promise<void> {
  const dir = layerTreeDir(env, diffId);
  if (await exists(join(dir, ".kb-complete"))) return;
  await mkdir(join(upperParent, ".kb-complete"), { recursive: true });
  await rename(upperParent, dir).catch(() => undefined);
}

/**
 * The overlay lowerdirs of a stage, top first. A layer that occurs twice (two `RUN true` give the same empty
 * diff) is stacked once, at its topmost place: overlayfs refuses a repeated lowerdir, and whatever the lower copy
 * shows, the upper copy shows too, from higher up.
 */
export async function lowerDirs(env: EngineEnv, layers: StageLayer[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const l of layers) dirs.push(await layerTree(env, l));
  return [...new Set(dirs.reverse())];
}
