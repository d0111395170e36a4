// COPY --chmod: octal ("0755") or symbolic ("u=rwx,go=rx", "a+x") modes applied to each copied entry.

import { KbError } from "../../errors.ts";

/** A parsed --chmod: returns the new mode for an entry (isDir matters for X). */
export type ModeFn = (mode: number, isDir: boolean) => number;

/** Parses --chmod. Octal sets the permission bits outright; symbolic edits them like chmod(1). */
export function parseChmod(spec: string): ModeFn {
  if (/^[0-7]{1,4}$/.test(spec)) {
    const m = parseInt(spec, 8);
    return (mode) => (mode & ~0o7777) | m;
  }
  const clauses = spec.split(",");
  const ops: ((mode: number, isDir: boolean) => number)[] = [];
  for (const c of clauses) {
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(c);
    if (!m) throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot use --chmod "${spec}": "${c}" is neither octal nor symbolic`, { hint: 'use e.g. --chmod=0755 or --chmod=u=rwx,go=rx' });
    const who = m[1] || "a";
    const op = m[2]!;
    const perms = m[3]!;
    ops.push((mode, isDir) => {
      let bits = 0;
      const mask = (w: string) => (w === "u" ? 0o4700 : w === "g" ? 0o2070 : w === "o" ? 0o1007 : 0o7777);
      let whoMask = 0;
      for (const w of who) whoMask |= mask(w);
      for (const p of perms) {
        if (p === "r") bits |= 0o444;
        if (p === "w") bits |= 0o222;
        if (p === "x" || (p === "X" && (isDir || (mode & 0o111) !== 0))) bits |= 0o111;
        if (p === "s") bits |= 0o6000;
        if (p === "t") bits |= 0o1000;
      }
      bits &= whoMask;
      if (op === "+") return mode | bits;
      if (op === "-") return mode & ~bits;
      return (mode & ~(whoMask & 0o7777)) | bits;
    });
  }
  return (mode, isDir) => ops.reduce((m, f) => f(m, isDir), mode);
}
