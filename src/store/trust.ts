// Store trust: the store root is 0700 and it and its top folders belong to the caller, like git's "unsafe
// directory" rule. A store someone else owns or can write could plant trees that a root build runs as its base;
// a store others can read would hand them the setuid files and device nodes kept in its trees.

import { chmod, lstat, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { KbError } from "../errors.ts";

/** What {@link ensureStoreTrust} fixed: folders owned by the caller whose mode was too open. */
export interface TrustReport {
  fixed: string[];
}

function refuse(dir: string, why: string, root: string): never {
  throw new KbError("STORE", `Cannot use the store "${root}": ${dir} ${why}`, {
    hint: `a store another user owns or can write could plant what RUN executes; use a folder of your own (--cache-dir or KB_CACHE_DIR), or as its owner: chown -R ${process.getuid?.() ?? "$(id -u)"} ${root} && chmod 0700 ${root}`,
  });
}

/**
 * Creates the store root 0700 when missing; then checks the root and `folders` (created by the caller after
 * this): each must be owned by the caller, and not writable by group or others. An older store (0755) owned by
 * the caller is fixed to 0700 (root) / go-w (folders). Anything owned by someone else is refused.
 * @example await ensureStoreTrust("/home/me/.cache/kb", ["/home/me/.cache/kb/trees"])
 */
export async function ensureStoreTrust(root: string, folders: string[], uid = process.getuid?.() ?? -1): Promise<TrustReport> {
  const report: TrustReport = { fixed: [] };
  if (uid < 0) return report; // not POSIX: nothing to check
  await mkdir(dirname(root), { recursive: true });
  await mkdir(root, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => { if (e.code !== "EEXIST") throw e; });
  const rootStat = await stat(root); // a symlinked store root is fine: its target is what is checked
  if (!rootStat.isDirectory()) refuse(root, "is not a folder", root);
  if (rootStat.uid !== uid) refuse(root, `is owned by uid ${rootStat.uid}, not by you (uid ${uid})`, root);
  if ((rootStat.mode & 0o077) !== 0) {
    await chmod(root, 0o700);
    report.fixed.push(root);
  }
  for (const f of folders) {
    const st = await lstat(f).catch((e: NodeJS.ErrnoException) => { if (e.code === "ENOENT") return undefined; throw e; });
    if (!st) continue;
    if (st.isSymbolicLink()) refuse(f, "is a symbolic link", root);
    if (!st.isDirectory()) refuse(f, "is not a folder", root);
    if (st.uid !== uid) refuse(f, `is owned by uid ${st.uid}, not by you (uid ${uid})`, root);
    if ((st.mode & 0o022) !== 0) {
      await chmod(f, st.mode & 0o755 & ~0o022);
      report.fixed.push(f);
    }
  }
  return report;
}
