// Per-layer trees for RUN: each layer extracted once (overlay whiteouts kept) and stacked as overlay lowerdirs.
// A tree is keyed by isolation flavour and the chain id of its layer and every layer below it: directories a
// layer only implies (its tar lists "tmp/f" but not "tmp/") take their metadata from the layers below, as
// any extractor would show them, so an upper tree never hides a base directory's mode (/tmp stays 1777).

import { chmod, lchown, lstat, mkdir, readFile, rename, stat, utimes } from "node:fs/promises";
import { basename, join } from "node:path";
import type { EngineEnv } from "../core/engine-types.ts";
import { IndexBuilder, rememberIndex } from "./layer-index.ts";
import type { StageLayer } from "../core/stage-state.ts";
import { chainId, extractedTree, isRoot } from "./trees.ts";

/** Root-owned trees (as root) and caller-owned trees (rootless) are not interchangeable. */
export function treeFlavour(): string {
  return isRoot() ? "root" : `u${process.getuid?.() ?? 0}`;
}

/** Where the tree of the top layer of a chain lives (whether or not it exists yet). */
export function layerTreeDir(env: EngineEnv, chain: string): string {
  return join(env.store.dirs.trees, `layer-${treeFlavour()}-${chain.replace(/^sha256:/, "")}`);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Gives each implied directory the metadata the lower trees (top first) show for it, if any has it. */
async function inheritImplicit(root: string, implicit: string[], lowers: string[]): Promise<void> {
  for (const rel of implicit) {
    for (const lower of lowers) {
      const st = await lstat(join(lower, rel)).catch(() => undefined);
      if (!st) continue;
      if (!st.isDirectory()) break;
      const here = join(root, rel);
      await chmod(here, st.mode & 0o7777);
      if (isRoot()) await lchown(here, st.uid, st.gid);
      await utimes(here, st.atime, st.mtime);
      break;
    }
  }
}

/**
 * Returns the tree of the top layer of `layers` (overlay whiteouts kept), extracting it if needed. The same pass
 * indexes the layer (layer-index.ts), so a layer is read once whether a COPY or a RUN asks for it first.
 */
async function layerTree(env: EngineEnv, layers: StageLayer[], lowers: string[]): Promise<string> {
  const top = layers[layers.length - 1]!;
  const dir = layerTreeDir(env, chainId(layers.map((l) => l.diffId)));
  const b = new IndexBuilder();
  const keep: string[] = [];
  const root = await extractedTree(env, dir, [top], "keep-as-overlay", (root, implicit) => inheritImplicit(root, implicit, lowers), (e) => {
    const k = b.add(e);
    if (k) keep.push(k);
  });
  if (b.idx.dirs.length + b.idx.others.length + b.idx.whiteouts.length + b.idx.opaques.length > 0) {
    const idx = b.finish();
    for (const k of keep) idx.files[k] = await readFile(join(root, k), "utf8").catch(() => "");
    await rememberIndex(env.store, top.diffId, idx).catch(() => undefined);
  }
  return root;
}

/** Extracts (once per store) the per-layer trees of a stage and, in the same pass, indexes each layer. */
export async function prepareLayerTrees(env: EngineEnv, layers: StageLayer[]): Promise<void> {
  if (layers.length) await lowerDirs(env, layers);
}

/** Adopts a finished RUN's upperdir as the tree of the layer made from it (no second extraction). */
export async function adoptUpperDir(env: EngineEnv, chain: string, upperParent: string): Promise<void> {
  const dir = layerTreeDir(env, chain);
  await env.store.pin("tree", basename(dir)); // kept by prune and GC while this build runs (store/leases.ts)
  if (await exists(join(dir, ".kb-complete"))) return;
  await mkdir(join(upperParent, ".kb-complete"), { recursive: true });
  await rename(upperParent, dir).catch(() => undefined);
}

/** The overlay lowerdirs of a stage, top first. */
export async function lowerDirs(env: EngineEnv, layers: StageLayer[]): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < layers.length; i++) dirs.unshift(await layerTree(env, layers.slice(0, i + 1), dirs));
  return dirs;
}
