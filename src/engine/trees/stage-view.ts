// COPY --from a stage or an image without extracting it: a view that holds only the subtrees the sources
// name, merged from the stage's per-layer trees (the ones RUN uses as overlay lowerdirs, extracted once per
// store) by hardlinks, with each layer's whiteouts and opaque directories taken from its index. The cost
// grows with what the copy touches, not with the stage (docs/decisions/130-copy-from-cost.md).

import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join, posix } from "node:path";
import { containsWildcards } from "../../context/_go-path.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import { layerIndex, type LayerIndex } from "./layer-index.ts";
import { lowerDirs, treeFlavour } from "./layer-trees.ts";
import type { StageLayer } from "../core/stage-state.ts";
import { buildTree, chainId, isRoot } from "./trees.ts";

/** Why a view cannot stand in for the merged tree (the caller extracts the merged tree instead). */
class Unviewable extends Error {}

/** The literal leading part of a source (up to its first wildcard segment), relative, "" for the root. */
export function sourcePrefix(source: string, parents: boolean): string {
  const text = parents && source.includes("/./") ? source.replace("/./", "/") : source;
  const clean = posix.normalize(`/${text}`).slice(1).replace(/\/+$/, "");
  if (clean === "" || clean === ".") return "";
  const segs = clean.split("/");
  const w = segs.findIndex(containsWildcards);
  return (w < 0 ? segs : segs.slice(0, w)).join("/");
}

const under = (p: string, dir: string) => dir === "" || p === dir || p.startsWith(`${dir}/`);

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let a = p.indexOf("/"); a > 0; a = p.indexOf("/", a + 1)) out.push(p.slice(0, a));
  return out;
}

async function copyMeta(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  await chmod(to, st.mode & 0o7777);
  if (isRoot()) await lchown(to, st.uid, st.gid);
  await utimes(to, st.atime, st.mtime);
}

/** Applies one layer's part at `prefix` onto the view: its deletions first, then its entries (hardlinked). */
async function applyLayer(tree: string, idx: LayerIndex, view: string, prefix: string, wildcard: boolean, links: { escaping: boolean }): Promise<void> {
  const wh = new Set(idx.whiteouts);
  if (prefix === "" && idx.opaques.includes("")) for (const n of await readdir(view)) await rm(join(view, n), { recursive: true, force: true });
  // Something above the prefix deleted, made opaque or replaced by a non-directory hides what lower layers had.
  for (const a of prefix === "" ? [] : [...ancestors(prefix), prefix]) {
    if (wh.has(a) || idx.opaques.includes(a) || (a !== prefix && idx.others.includes(a))) await rm(join(view, prefix), { recursive: true, force: true });
    const st = await lstat(join(tree, a)).catch(() => undefined);
    if (a !== prefix && st && !st.isDirectory() && !wh.has(a)) {
      if (st.isSymbolicLink()) throw new Unviewable(`"/${a}" is a symlink`);
      return; // a file in place of a directory: nothing of the prefix in this layer
    }
  }
  if (prefix !== "" && idx.opaques.includes("")) await rm(join(view, prefix), { recursive: true, force: true });
  for (const w of idx.whiteouts) if (w !== prefix && under(w, prefix)) await rm(join(view, w), { recursive: true, force: true });
  for (const o of idx.opaques) {
    if (o === prefix || o === "" || !under(o, prefix)) continue;
    // An opaque directory hides what lower layers had in it; the directory itself stays (this layer has it).
    const names = await readdir(join(view, o)).catch(() => [] as string[]);
    for (const n of names) await rm(join(view, o, n), { recursive: true, force: true });
  }
  const top = await lstat(join(tree, prefix)).catch(() => undefined);
  if (!top || (prefix !== "" && wh.has(prefix))) return;
  if (top.isSymbolicLink()) throw new Unviewable(`"/${prefix}" is a symlink`);
  for (const a of ancestors(prefix)) {
    await mkdir(join(view, a), { recursive: true });
    if (await lstat(join(tree, a)).then((s) => s.isDirectory(), () => false)) await copyMeta(join(tree, a), join(view, a));
  }
  await place(tree, view, prefix, top.isDirectory(), wh, wildcard, links);
}

/** Places one entry (a directory recursively) of a layer tree into the view. */
async function place(tree: string, view: string, rel: string, isDir: boolean, wh: Set<string>, wildcard: boolean, links: { escaping: boolean }): Promise<void> {
  const to = join(view, rel);
  const from = join(tree, rel);
  const existing = await lstat(to).catch(() => undefined);
  if (isDir) {
    if (existing && !existing.isDirectory()) await rm(to, { force: true });
    if (!existing?.isDirectory()) await mkdir(to);
    for (const d of await readdir(from, { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (wh.has(child)) continue; // the layer's whiteout marker, applied above
      await place(tree, view, child, d.isDirectory(), wh, wildcard, links);
    }
    await copyMeta(from, to);
    return;
  }
  if (existing) await rm(to, { recursive: true, force: true });
  if (wildcard && !links.escaping) {
    const st = await lstat(from);
    if (st.isSymbolicLink()) {
      const target = await readlink(from);
      if (target.startsWith("/") || posix.normalize(posix.join(posix.dirname(rel), target)).startsWith("..")) links.escaping = true;
    }
  }
  await link(from, to).catch(async (e: NodeJS.ErrnoException) => {
    // Rootless trees may hold files of other (mapped) owners, which protected_hardlinks refuses to link.
    if (e.code !== "EPERM" && e.code !== "EMLINK" && e.code !== "EXDEV") throw e;
    const st = await lstat(from);
    if (st.isSymbolicLink()) {
      await symlink(await readlink(from), to);
      await lutimes(to, st.atime, st.mtime);
    } else if (st.isFile()) {
      await copyFile(from, to);
      await copyMeta(from, to);
    } // sockets, fifos and devices owned by others: a COPY reads none of them
  });
}

export interface StageView {
  dir: string;
  cleanup(): Promise<void>;
}

/**
 * A directory holding, for each source prefix, what the merged filesystem of `layers` has there; undefined
 * when a view cannot answer like the merged tree (a source at the root, a symlink on a source's path, a
 * wildcard match that may follow a symlink out of the view) — the caller then uses the merged tree.
 */
export async function stageView(env: EngineEnv, layers: StageLayer[], sources: string[], parents: boolean): Promise<StageView | undefined> {
  const prefixes = sources.map((s) => ({ prefix: sourcePrefix(s, parents), wildcard: s.split("/").some(containsWildcards) }));
  if (layers.length === 0 || prefixes.some((p) => p.prefix === "")) return undefined;
  // Kept in the store by stage chain and sources: a later build copying the same paths from an unchanged stage
  // finds it made (hardlinks: it costs inodes, not bytes).
  const chain = chainId(layers.map((l) => l.diffId));
  const key = createHash("sha256").update(JSON.stringify([chain, prefixes])).digest("hex").slice(0, 40);
  try {
    const dir = await buildTree(env, join(env.store.dirs.trees, `view-${treeFlavour()}-${key}`), async (root) => {
      const trees = (await lowerDirs(env, layers)).reverse(); // bottom first
      const indexes = await Promise.all(layers.map((l) => layerIndex(env.store, l, env.signal)));
      const links = { escaping: false };
      for (const { prefix, wildcard } of prefixes) {
        for (let i = 0; i < trees.length; i++) await applyLayer(trees[i]!, indexes[i]!, root, prefix, wildcard, links);
      }
      if (links.escaping) throw new Unviewable("a wildcard may match a symlink that points out of the view");
    }, "copy --from view");
    return { dir, cleanup: async () => {} };
  } catch (e) {
    if (e instanceof Unviewable) return undefined;
    throw e;
  }
}

/**
 * The merged filesystem of `layers` kept in the store (for bind mounts and the copies a view cannot serve): made
 * from the per-layer trees by hardlinks, so it costs inodes, not a second copy of every file's bytes.
 */
export async function mergedTree(env: EngineEnv, layers: StageLayer[]): Promise<string> {
  const id = chainId(layers.map((l) => l.diffId)).replace(/^sha256:/, "") || "empty";
  const dir = join(env.store.dirs.trees, `merged-${treeFlavour()}-${id}`);
  const trees = layers.length ? (await lowerDirs(env, layers)).reverse() : [];
  const indexes = await Promise.all(layers.map((l) => layerIndex(env.store, l, env.signal)));
  return buildTree(env, dir, async (root) => {
    const links = { escaping: false };
    for (let i = 0; i < trees.length; i++) await applyLayer(trees[i]!, indexes[i]!, root, "", false, links);
  });
}
