// WORKDIR: sets the config's WorkingDir and creates the missing directories (0755, owned by USER) as its own
// layer; BuildKit commits that layer even when nothing was missing (only WORKDIR / adds no layer).

import { posix } from "node:path";
import type { Instruction } from "../../dockerfile/index.ts";
import { cacheKey } from "../core/cache-key.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import { commitLayer } from "../trees/layers.ts";
import { recall, remember } from "../core/step-cache.ts";
import type { StageState } from "../core/stage-state.ts";
import { resolveStageOwner } from "./user-db.ts";
import { stageDirs, withImpliedParents } from "./implied-parents.ts";
import { stageFsOf } from "../trees/layer-index.ts";
import { resolveInStage } from "../trees/resolve-in-stage.ts";
import type { TarEntry } from "../../layer/index.ts";

/**
 * Directories most base images have with their own mode (e.g. /tmp is 1777): a COPY destination there must not
 * add an entry that resets them (decision 002). WORKDIR reads the stage's layer indexes instead (decision 120):
 * busybox has no /srv, and BuildKit makes it owned by USER.
 */
const STANDARD_DIRS = new Set(["/", "/tmp", "/lib", "/var/tmp", "/root", "/home", "/usr", "/usr/local", "/usr/local/bin", "/usr/bin", "/bin", "/sbin", "/etc", "/var", "/opt", "/srv", "/run", "/dev", "/proc", "/sys", "/lib", "/mnt", "/media"]);

/** True for a standard directory every base has ("/tmp", "/usr/local/bin", …); takes "/x" or "x". */
export function isStandardDir(path: string): boolean {
  return STANDARD_DIRS.has(path.startsWith("/") ? path : `/${path}`);
}

/** Resolves a WORKDIR path against the current one. */
export function resolveWorkdir(current: string | undefined, path: string): string {
  return posix.resolve(current || "/", path);
}

export async function runWorkdir(env: EngineEnv, st: StageState, inst: Extract<Instruction, { kind: "WORKDIR" }>): Promise<boolean> {
  const c = (st.config.config ??= {});
  const dir = resolveWorkdir(c.WorkingDir, inst.path);
  c.WorkingDir = dir;
  const text = `WORKDIR ${dir}`;
  // BuildKit commits a layer for every WORKDIR but "/" (an empty one when the directory exists).
  if (dir === "/") {
    st.key = cacheKey(st.key, text);
    st.history.push({ created: env.created, created_by: text, comment: "buildkit.dockerfile.v0", empty_layer: true });
    return false;
  }
  // Owned as BuildKit's mkdir WithUser(USER) owns it: a numeric USER is uid:uid, an unknown name root (resolveOwner).
  const user = c.User ? await resolveStageOwner(env, st, c.User, "WORKDIR under USER", inst.location.startLine) : { uid: 0, gid: 0 };
  st.key = cacheKey(st.key, text, user.uid, user.gid);
  let layer = await recall(env, st, st.key);
  const cached = !!layer;
  let placed = dir;
  if (!layer) {
    // The directories are made where Docker makes them: through the image's symlinks (WORKDIR /x/w with /x -> /y
    // makes /y/w); the config keeps the path as written.
    const fs = stageFsOf(env.store, st, env.signal);
    placed = await resolveInStage(fs, dir);
    const mtime = env.mtimeClamp ?? Math.floor(Date.parse(env.created) / 1000);
    // Every directory WORKDIR creates belongs to USER (BuildKit: mkdir -p with the user's ids). Directories the
    // stage already has keep their mode and owner; when something is created below them they are listed with those,
    // as BuildKit's differ lists every parent of a change (the one that gains an entry with this build's time).
    const parts = placed.slice(1).split("/");
    const own: { entry: TarEntry }[] = [];
    for (let i = 0; i < parts.length; i++) {
      const path = parts.slice(0, i + 1).join("/");
      if (st.createdDirs.has(`/${path}`) || (await fs.kind(path)) !== undefined) continue;
      own.push({ entry: { path, type: "dir", mode: 0o755, uid: user.uid, gid: user.gid, size: 0, mtime } });
    }
    const entries = withImpliedParents((async function* () { yield* own; })(), stageDirs(fs, st.createdDirs), mtime);
    layer = await commitLayer(env.store, entries, env.layer, env.signal);
    await remember(env, st, st.key, layer);
  }
  st.layers.push(layer);
  st.createdDirs.add(placed);
  st.history.push({ created: env.created, created_by: text, comment: "buildkit.dockerfile.v0" });
  return cached;
}
