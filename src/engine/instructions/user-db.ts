// The stage's /etc/passwd and /etc/group, read from its layer indexes only when a name must be resolved.

import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { stageFsOf } from "../trees/layer-index.ts";
import { parseGroup, parsePasswd, resolveOwner, resolveUser, type UserDb } from "./passwd.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import type { StageState } from "../core/stage-state.ts";

/** Resolves USER "user[:group]" for a stage (ids, groups, home), as runc does: an unknown name is an error. */
export async function resolveStageUser(env: EngineEnv, st: StageState, spec: string, what: string): Promise<{ uid: number; gid: number; groups: number[]; home: string }> {
  const db = await stageUserDb(env, st);
  return resolveUser(spec, db, what);
}

/**
 * The owner that `--chown` or WORKDIR under USER gives (passwd.ts resolveOwner: BuildKit's rules, where an unknown
 * name is root with a warning, not an error). Numeric ids read no database.
 */
export async function resolveStageOwner(env: EngineEnv, st: StageState, spec: string, what: string, line?: number): Promise<{ uid: number; gid: number }> {
  const db = /[^\d:]/.test(spec) ? await stageUserDb(env, st) : {}; // only a name needs passwd or group
  return resolveOwner(spec, db, (msg) => env.sink.emit({ type: "warning", message: `${what} "${spec}": ${msg}`, line }));
}

/** Reads passwd and group of the stage (from the topmost layer that has them). */
export async function stageUserDb(env: EngineEnv, st: StageState): Promise<UserDb> {
  const fs = stageFsOf(env.store, st, env.signal);
  const [passwd, group] = await Promise.all([fs.readSmallFile("etc/passwd"), fs.readSmallFile("etc/group")]);
  return { passwd: passwd === undefined ? undefined : parsePasswd(passwd), group: group === undefined ? undefined : parseGroup(group) };
}

/** A small file as the overlay of `lowers` (top first) shows it: the first tree that has it, or a whiteout. */
async function readThroughTrees(lowers: string[], rel: string): Promise<string | undefined> {
  for (const dir of lowers) {
    const st = await lstat(join(dir, rel)).catch(() => undefined);
    if (!st) continue;
    if (!st.isFile() || st.size === 0) return undefined; // a whiteout (0/0 device or empty xattr-marked file)
    return readFile(join(dir, rel), "utf8");
  }
  return undefined;
}

/** Resolves USER for a RUN from the extracted lower trees (no extra pass over the layers). */
export async function resolveUserFromTrees(lowers: string[], spec: string): Promise<{ uid: number; gid: number; groups: number[]; home: string }> {
  const [passwd, group] = await Promise.all([readThroughTrees(lowers, "etc/passwd"), readThroughTrees(lowers, "etc/group")]);
  return resolveUser(spec, { passwd: passwd === undefined ? undefined : parsePasswd(passwd), group: group === undefined ? undefined : parseGroup(group) }, "USER");
}
