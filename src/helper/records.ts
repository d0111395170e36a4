// The kb-sandbox config records (key + fixed fields, each NUL-terminated; see src/exec/helper/kb-sandbox.c),
// shared by a RUN's config (src/exec/_config.ts) and the tree operations (tree-access.ts).

import { KbError } from "../errors.ts";
import type { IdMapping } from "./ids.ts";

export type Rec = (key: string, ...fields: (string | number)[]) => void;

/** A record writer into `out`: key and fields, each NUL-terminated; a NUL inside a value is refused. */
export function recordWriter(out: string[]): Rec {
  return (key, ...fields) => {
    for (const f of [key, ...fields]) {
      const s = String(f);
      if (s.includes("\0")) throw new KbError("SANDBOX", `Cannot pass "${key}" to the sandbox: the value holds a NUL byte`);
      out.push(s, "\0");
    }
  };
}

/** The user namespace records: `userns 1`, the maps, and the newuidmap/newgidmap paths. */
export function idMapRecords(rec: Rec, idMap: IdMapping): void {
  rec("userns", 1);
  for (const r of idMap.uids) rec("uidmap", r.inside, r.outside, r.count);
  for (const r of idMap.gids) rec("gidmap", r.inside, r.outside, r.count);
  if (idMap.newuidmap) rec("newuidmap", idMap.newuidmap);
  if (idMap.newgidmap) rec("newgidmap", idMap.newgidmap);
}
