// Where a RUN --mount lands: its target resolved inside the stage, as runc resolves a mount destination
// (securejoin): a symlink on the way is followed within the image's root, never on the host.

import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { KbError } from "../../errors.ts";
import type { StageFs } from "../trees/layer-index.ts";

/** Symlinks followed for one target before giving up (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/** The target of the symlink at `rel` in a layer tree, or undefined when the entry there is not a symlink. */
async function linkAt(tree: string, rel: string): Promise<string | undefined> {
  const abs = join(tree, rel);
  try {
    return (await lstat(abs)).isSymbolicLink() ? await readlink(abs) : undefined;
  } catch {
    return undefined; // unreadable (a rootless tree the caller cannot enter): the target stays as written
  }
}

/**
 * An absolute mount target with every symlink on its way resolved in the stage: an absolute link starts again at
 * the image's root, `..` never climbs above it, and what does not exist yet is kept as written (the sandbox makes
 * it, and the layer keeps it, as Docker does). `/x/ctx` with `/x -> /y` is `/y/ctx`. The stage's entries come from
 * its layer indexes (`fs`); a link's target is read from the layer tree that holds it (`trees`, bottom layer first).
 * @example await resolveMountTarget(fs, trees, "/var/run/app") // "/run/app" on Debian
 */
export async function resolveMountTarget(fs: Pick<StageFs, "visible">, trees: string[], target: string): Promise<string> {
  const todo = target.split("/");
  const cur: string[] = [];
  let known = 0; // cur[0, known) exist in the stage; what follows does not
  let hops = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "" || name === ".") continue;
    if (name === "..") {
      cur.pop();
      known = Math.min(known, cur.length);
      continue;
    }
    cur.push(name);
    if (known < cur.length - 1) continue; // below something missing: missing too
    const seen = await fs.visible(cur.join("/"));
    if (!seen) continue;
    known = cur.length;
    if (seen.kind === "dir" || seen.layer < 0) continue;
    const link = await linkAt(trees[seen.layer]!, cur.join("/"));
    if (link === undefined) continue; // a file: the sandbox says it cannot mount there
    if (++hops > MAX_LINKS) {
      throw new KbError("BUILD", `Cannot mount at "${target}": more than ${MAX_LINKS} symbolic links on the way`, {
        hint: "point the --mount target at a directory of the image",
      });
    }
    cur.pop();
    known = Math.min(known, cur.length);
    if (link.startsWith("/")) (cur.length = 0), (known = 0);
    todo.unshift(...link.split("/"));
  }
  return `/${cur.join("/")}`;
}

/** Resolves each distinct target once; the map gives each target as written its place in the stage. */
export async function resolveMountTargets(fs: Pick<StageFs, "visible">, trees: string[], targets: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const t of targets) if (!out.has(t)) out.set(t, await resolveMountTarget(fs, trees, t));
  return out;
}
