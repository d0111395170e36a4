// The stage's /etc/passwd and /etc/group, read from its layer indexes only when a name must be resolved.

import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { stageFsOf } from "../trees/layer-index.ts";
import { parseGroup, parsePasswd, resolveUser, type UserDb } from "./passwd.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import type { StageState } from "../core/stage-state.ts";

/** Resolves "user[:group]" for a stage; numeric specs never read the filesystem. */
export async function resolveStageUser(env: EngineEnv, st: StageState, spec: string, what: string): Promise<{ uid: number; gid: number; groups: number[]; home: string }> {
  const [u, g] = spec.split(":", 2);
  const numeric = /^\d+$/.test(u!) && (g === undefined || /^\d+$/.test(g));
  if (numeric && what === "--chown") {
    const uid = Number(u);
    return { uid, gid: g === undefined ? uid : Number(g), groups: [], home: "/" };
  }
  const db = await stageUserDb(env, st);
  return resolveUser(spec, db, what);
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
