// Encodes the config of one RUN for the kb-sandbox helper (the record format is in src/helper/records.ts).

import { KbError } from "../errors.ts";
import type { IdMapping } from "../helper/ids.ts";
import { idMapRecords, recordWriter } from "../helper/records.ts";
import type { RunSpec } from "./types.ts";

/** Where the helper mounts things and finds the generated /etc files. */
export interface HelperLayout {
  rootfs: string;
  /** Bottom lower dir holding empty mount points, so the upperdir stays clean. */
  stubs: string;
  /** Host files with the /etc contents, keyed by container path. */
  etcFiles: [host: string, target: string][];
  /** Where pasta writes its pid (network "sandbox"). */
  pastaPidFile: string;
}

/** Builds the NUL-separated config the helper reads on fd 3. */
export function encodeHelperConfig(spec: RunSpec, layout: HelperLayout, idMap: IdMapping | undefined, probe = false): Uint8Array {
  const out: string[] = [];
  const rec = recordWriter(out);
  if (idMap) idMapRecords(rec, idMap);
  rec("net", spec.network);
  if (spec.network === "sandbox" && spec.netnsPath) rec("netns", spec.netnsPath);
  else if (spec.network === "sandbox") {
    if (!spec.pastaPath) throw new KbError("SANDBOX", 'Cannot isolate the RUN network: no path to "pasta" given', { hint: "apt-get install passt" });
    rec("pasta", spec.pastaPath);
    rec("pastapid", layout.pastaPidFile);
  }
  rec("rootfs", layout.rootfs);
  for (const d of [...spec.lowerDirs, layout.stubs]) rec("lower", d);
  rec("upper", spec.upperDir);
  rec("work", spec.workDir);
  if (spec.hostname) rec("hostname", spec.hostname.trim());
  for (const [host, target] of layout.etcFiles) rec("etc", host, target);
  for (const m of spec.mounts) {
    if (m.type === "bind") rec("bind", m.source, m.target, m.readonly ? "ro" : "rw");
    else rec("tmpfs", m.target, [`mode=${(m.mode ?? 0o1777).toString(8)}`, m.size ? `size=${m.size}` : ""].filter(Boolean).join(","));
  }
  if (spec.shmSize) rec("shm", spec.shmSize);
  for (const u of spec.ulimits ?? []) rec("rlimit", u.name, u.soft, u.hard);
  rec("cwd", spec.cwd);
  rec("uid", spec.user.uid);
  rec("gid", spec.user.gid);
  for (const g of spec.user.groups) rec("group", g);
  for (const a of spec.args) rec("arg", a);
  for (const e of spec.env) rec("env", e);
  if (probe) rec("probe", 1);
  return new TextEncoder().encode(out.join(""));
}
