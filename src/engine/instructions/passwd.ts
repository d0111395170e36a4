// Resolving USER and --chown names through a stage's /etc/passwd and /etc/group, as Docker does.

import { KbError } from "../../errors.ts";

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }
export interface GroupEntry { name: string; gid: number; members: string[] }

/** Parses /etc/passwd text; malformed lines are skipped (as libc does). */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

/** Parses /etc/group text. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(",").filter(Boolean) });
  }
  return out;
}

export interface UserDb {
  passwd?: PasswdEntry[];
  group?: GroupEntry[];
}

const isNum = (s: string) => /^\d+$/.test(s);

/**
 * Resolves "user[:group]" (names or numbers) to ids. Numeric ids need no database; names must exist.
 * For USER (not --chown) a numeric user without a group takes the passwd gid when known, else 0.
 */
export function resolveUser(spec: string, db: UserDb, what: string): { uid: number; gid: number; groups: number[]; home: string } {
  const [u, g] = spec.split(":", 2) as [string, string | undefined];
  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  let home = "/";
  if (isNum(u)) {
    uid = Number(u);
    const e = db.passwd?.find((p) => p.uid === uid);
    name = e?.name;
    home = e?.home || "/";
    if (g === undefined) gid = e?.gid ?? uid * 0;
  } else {
    const e = db.passwd?.find((p) => p.name === u) ?? (u === "root" ? { name: "root", uid: 0, gid: 0, home: "/root" } : undefined);
    if (!e) {
      throw new KbError("BUILD", `Cannot resolve ${what} "${spec}": no user "${u}" in the stage's /etc/passwd`, {
        hint: db.passwd ? "create the user in an earlier step, or use a numeric uid" : "the stage has no /etc/passwd: use numeric ids like 1000:1000",
      });
    }
    uid = e.uid;
    name = e.name;
    home = e.home || "/";
    if (g === undefined) gid = e.gid;
  }
  if (g !== undefined) {
    if (isNum(g)) gid = Number(g);
    else {
      const e = db.group?.find((x) => x.name === g);
      if (!e) {
        throw new KbError("BUILD", `Cannot resolve ${what} "${spec}": no group "${g}" in the stage's /etc/group`, {
          hint: db.group ? "create the group in an earlier step, or use a numeric gid" : "the stage has no /etc/group: use a numeric gid",
        });
      }
      gid = e.gid;
    }
  }
  const groups = name ? (db.group ?? []).filter((x) => x.members.includes(name!)).map((x) => x.gid) : [];
  // Supplementary groups are the /etc/group memberships only (runc: `id` as a user without any shows no groups=).
  return { uid, gid: gid ?? 0, groups: [...new Set(groups)], home };
}

/**
 * The owner that COPY/ADD --chown and WORKDIR give, by BuildKit's rules (client/llb WithUser, then the file op's
 * readUser): "USER[:GROUP]" split at the first colon. For the user part:
 * - empty: id 0;
 * - a number: that uid, and the same gid;
 * - a name: the first passwd entry with that name gives the uid and its gid; a name the stage does not have gives
 *   0:0. Docker does not fail there, so kb warns through `warn` instead.
 * For the group part, if there is one:
 * - empty: gid 0;
 * - a number: that gid;
 * - a name: the first group entry's gid; an unknown name leaves the gid as it was, and kb warns.
 */
export function resolveOwner(spec: string, db: UserDb, warn: (msg: string) => void): { uid: number; gid: number } {
  const colon = spec.indexOf(":");
  const u = colon < 0 ? spec : spec.slice(0, colon);
  const g = colon < 0 ? undefined : spec.slice(colon + 1);
  let uid = 0;
  let gid = 0;
  if (isNum(u)) uid = gid = Number(u);
  else if (u !== "") {
    const e = db.passwd?.find((p) => p.name === u);
    if (e) ({ uid, gid } = e);
    else warn(`no user "${u}" in the stage's /etc/passwd: uid 0 and gid 0, as Docker does`);
  }
  if (g === undefined) return { uid, gid };
  if (g === "" || isNum(g)) return { uid, gid: g === "" ? 0 : Number(g) };
  const e = db.group?.find((x) => x.name === g);
  if (e) return { uid, gid: e.gid };
  warn(`no group "${g}" in the stage's /etc/group: gid ${gid}, as Docker does`);
  return { uid, gid };
}
