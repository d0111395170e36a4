// Rootless RUN with a subordinate id range: the lower trees kb extracted hold the caller's ids (it cannot chown),
// so inside the RUN every file would be 0:0 and `COPY --chown=node … ; USER node ; RUN npm ci` fails. Each tree
// gets its layer's owners once (read from the layer's tar, set through the id map), marked done beside it.

import { lstat, mkdir, stat } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";
import type { IdMapping } from "../../helper/index.ts";
import { readTar } from "../../layer/index.ts";
import { canMapOwners, chownThroughMapping, type OwnerFix } from "../../snapshot/index.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import type { StageLayer } from "../core/stage-state.ts";

/** Marker beside a tree's root: its files carry the image's owners (through the id map), not the caller's. */
export const OWNERS_MARKER = ".kb-owners-mapped";

const has = (p: string) => stat(p).then(() => true, () => false);

/** Non-root owners a layer's tar gives its entries (whiteouts left out), as fixes under `root`. */
async function layerOwners(env: EngineEnv, layer: StageLayer, root: string): Promise<OwnerFix[]> {
  const out: OwnerFix[] = [];
  const tar = await layer.layer.uncompressed(env.signal);
  for await (const { entry, body } of readTar(tar)) {
    await body.cancel();
    const rel = posix.normalize(`/${entry.path}`).slice(1).replace(/\/$/, "");
    if (!rel || posix.basename(rel).startsWith(".wh.") || entry.type === "hardlink") continue;
    if (entry.uid === 0 && entry.gid === 0) continue;
    const path = join(root, rel);
    if (!(await lstat(path).then(() => true, () => false))) continue;
    out.push({ path, uid: entry.uid, gid: entry.gid, mode: entry.type === "file" ? entry.mode : undefined });
  }
  return out;
}

/**
 * Gives each lower tree (top first, as lowerDirs returns them; `layers` bottom first) its layer's owners when the
 * RUN's id map has a subordinate range. A no-op as root and with a single id (nothing to map to).
 */
export async function mapLowerOwners(env: EngineEnv, layers: StageLayer[], lowers: string[], idMap: IdMapping | undefined): Promise<void> {
  if (!canMapOwners(idMap)) return;
  for (let i = 0; i < layers.length; i++) {
    const root = lowers[lowers.length - 1 - i]!;
    const marker = join(dirname(root), OWNERS_MARKER);
    if (await has(marker)) continue;
    const t0 = performance.now();
    await chownThroughMapping(idMap, await layerOwners(env, layers[i]!, root));
    await mkdir(marker, { recursive: true });
    env.timings.set("map owners", (env.timings.get("map owners") ?? 0) + performance.now() - t0);
  }
}

/** Marks a RUN's upper tree as carrying real owners already (the RUN wrote them through the id map). */
export async function markOwnersMapped(upperParent: string): Promise<void> {
  await mkdir(join(upperParent, OWNERS_MARKER), { recursive: true });
}

/**
 * The image's owner of every path of a merged tree made from `layers` (bottom first), for a rootless COPY --from:
 * the top layer that lists a path decides; 0:0 for paths no layer gives another owner.
 */
export async function mergedOwners(env: EngineEnv, layers: StageLayer[], root: string): Promise<(absPath: string) => [number, number]> {
  const owners = new Map<string, [number, number]>();
  for (const l of layers) {
    for await (const { entry, body } of readTar(await l.layer.uncompressed(env.signal))) {
      await body.cancel();
      const rel = posix.normalize(`/${entry.path}`).slice(1).replace(/\/$/, "");
      if (!rel || posix.basename(rel).startsWith(".wh.")) continue;
      if (entry.uid === 0 && entry.gid === 0) owners.delete(rel);
      else owners.set(rel, [entry.uid, entry.gid]);
    }
  }
  return (absPath) => owners.get(relative(root, absPath).split(sep).join("/")) ?? [0, 0];
}
