// The stage's /etc/passwd and /etc/group, read from its layer indexes only when a name must be resolved.

import { StageFs } from "./layer-index.ts";
import { parseGroup, parsePasswd, resolveUser, type UserDb } from "./passwd.ts";
import type { EngineEnv } from "./engine-types.ts";
import type { StageState } from "./stage-state.ts";

/** Resolves "user[:group]" for a stage; numeric specs never read the filesystem. */
export async function resolveStageUser(env: EngineEnv, st: StageState, spec: string, what: string): Promise<{ uid: number; gid: number; groups: number[] }> {
  const [u, g] = spec.split(":", 2);
  const numeric = /^\d+$/.test(u!) && (g === undefined || /^\d+$/.test(g));
  if (numeric && what === "--chown") {
    const uid = Number(u);
    return { uid, gid: g === undefined ? uid : Number(g), groups: [] };
  }
  const db = await stageUserDb(env, st);
  return resolveUser(spec, db, what);
}

/** Reads passwd and group of the stage (from the topmost layer that has them). */
export async function stageUserDb(env: EngineEnv, st: StageState): Promise<UserDb> {
  const fs = new StageFs(env.store, st.layers, env.signal);
  const [passwd, group] = await Promise.all([fs.readSmallFile("etc/passwd"), fs.readSmallFile("etc/group")]);
  return { passwd: passwd === undefined ? undefined : parsePasswd(passwd), group: group === undefined ? undefined : parseGroup(group) };
}
