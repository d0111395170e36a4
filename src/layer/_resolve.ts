// Private: resolving archive paths inside an extraction root, as if the root were "/" (a chroot).

import { lstatSync, mkdirSync, readlinkSync, type Stats } from "node:fs";
import path from "node:path";
import { KbError } from "../errors.ts";

const MAX_LINKS = 40;

/** Clean relative components of an archive path; throws when `..` climbs above the root. */
export function archiveComponents(p: string, what: string): string[] {
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) {
        throw new KbError("LAYER_INVALID", `Cannot extract ${what}: the path "${p}" leads outside the root`, {
          hint: "The layer is hostile or broken; kb never writes outside the extraction root",
        });
      }
      out.pop();
    } else out.push(c);
  }
  return out;
}

export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * The host path of the parent directory of `comps` inside `root`, following symlinks in parent
 * components within the root (an absolute target restarts at the root, `..` stops at the root),
 * so the result is always under `root`. Missing parents are made (0755) when `create` is true,
 * else undefined is returned. A non-directory in the way is an error.
 */
export function resolveParent(root: string, comps: string[], create: boolean, what: string, known?: Set<string>): string | undefined {
  const queue = comps.slice(0, -1);
  const cur: string[] = [];
  let links = 0;
  while (queue.length) {
    const c = queue.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      cur.pop();
      continue;
    }
    const host = path.join(root, ...cur, c);
    if (known?.has(host)) {
      cur.push(c);
      continue;
    }
    const st = lstatOrUndefined(host);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new KbError("LAYER_INVALID", `Cannot extract ${what}: too many symlinks in its path`);
      const target = readlinkSync(host);
      if (target.startsWith("/")) cur.length = 0;
      queue.unshift(...target.split("/"));
      continue;
    }
    if (!st) {
      if (!create) return undefined;
      mkdirSync(host, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      throw new KbError("LAYER_INVALID", `Cannot extract ${what}: "/${[...cur, c].join("/")}" is not a directory`);
    }
    known?.add(host);
    cur.push(c);
  }
  return path.join(root, ...cur);
}
