// Directory entries a layer needs but its entries only imply: COPY --from onto scratch writes bin/busybox, ADD of
// a tar without directory entries writes d/sub/f. BuildKit's layer holds bin/ and d/sub/ (0755, root); a layer
// without them leaves each unpacker to invent the directory. Directories the stage already has are left out, so
// their mode and owner stay what the lower layers say.

import { posix } from "node:path";
import type { TarInput } from "../../layer/index.ts";
import type { StageFs } from "../trees/layer-index.ts";

/**
 * What a stage has at each directory path, for withImpliedParents: from its layer indexes, or `createdDirs` (the
 * directories this build's WORKDIRs made in it).
 */
export function stageDirs(fs: StageFs, createdDirs: ReadonlySet<string>): (path: string) => Promise<StageDir> {
  return async (d) => (await fs.dirMeta(d)) ?? (createdDirs.has(`/${d}`) || (await fs.kind(d)) !== undefined ? "unknown" : "missing");
}

/** What the stage has at a directory path: nothing, a directory with known metadata, or one without (the root, a parent a layer only implies). */
export type StageDir = "missing" | "unknown" | { mode: number; uid: number; gid: number; mtime: number };

/**
 * Passes `entries` through, adding before each entry the directories above it that no earlier entry listed:
 * - a missing one is made (0755, 0:0, `mtime`);
 * - with `existing`, one the stage has is listed with its mode, owner and mtime, as BuildKit's differ lists every
 *   parent of a change (`COPY a /etc/` is `etc/` and `etc/a`). The entry's own parent gets `mtime`: adding to it
 *   changed it.
 * A directory whose metadata is not known is left out.
 */
export async function* withImpliedParents(entries: AsyncIterable<TarInput>, stageDir: (path: string) => Promise<StageDir>, mtime: number, existing = true): AsyncGenerator<TarInput> {
  const known = new Set<string>([""]);
  for await (const e of entries) {
    const path = posix.normalize(e.entry.path).replace(/^\/+|\/+$/g, "");
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (known.has(dir)) continue;
      known.add(dir);
      const s = await stageDir(dir);
      if (s === "missing") yield { entry: { path: dir, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime } };
      else if (s !== "unknown" && existing) yield { entry: { path: dir, type: "dir", mode: s.mode, uid: s.uid, gid: s.gid, size: 0, mtime: i === parts.length - 1 ? mtime : s.mtime } };
    }
    if (e.entry.type === "dir") known.add(path);
    yield e;
  }
}

/**
 * Passes a RUN's snapshot through, then adds the mount points of its --mount targets (and their missing parents)
 * that neither the snapshot nor the stage has: BuildKit's RUN leaves each target directory in the layer (0755, root).
 * A file bind's target (in `fileTargets`) was an empty file stub, which BuildKit's MountStubsCleaner removes: only
 * its missing parents stay.
 */
export async function* withMountPoints(entries: AsyncIterable<TarInput>, targets: string[], exists: (path: string) => Promise<boolean>, mtime: number, fileTargets: ReadonlySet<string> = new Set()): AsyncGenerator<TarInput> {
  const seen = new Set<string>([""]);
  for await (const e of entries) {
    seen.add(posix.normalize(e.entry.path).replace(/^\/+|\/+$/g, ""));
    yield e;
  }
  for (const t of targets) {
    const parts = posix.normalize(t).replace(/^\/+|\/+$/g, "").split("/");
    const last = fileTargets.has(t) ? parts.length - 1 : parts.length;
    for (let i = 1; i <= last; i++) {
      const dir = parts.slice(0, i).join("/");
      if (seen.has(dir)) continue;
      seen.add(dir);
      if (await exists(dir)) continue;
      yield { entry: { path: dir, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime } };
    }
  }
}
