// Resolving a root-relative path while following symlinks, without ever leaving the root. In the build context a
// link that leaves it is an error; in a stage's filesystem (COPY --from) links resolve as in a chroot, as
// BuildKit's copy does (continuity fs.RootPath): an absolute target starts at the root, ".." stops there.

import { promises as fsp, type Stats } from "node:fs";
import * as path from "node:path";
import { KbError } from "../errors.ts";

/** A path that exists inside the root, after following symlinks. */
export interface ScopedPath {
  /** Posix path relative to the root ("." for the root). */
  rel: string;
  abs: string;
  st: Stats;
}

const MAX_LINKS = 40;

function escapeError(source: string, via: string, target: string): KbError {
  return new KbError("CONTEXT", `Cannot use "${source}": symlink "${via}" points to "${target}", outside the build context`, {
    hint: "Copy the file into the context directory instead of linking to it",
  });
}

/**
 * Resolves `rel` (already cleaned, relative) under `root`, following symlinks in every component (and in
 * the last one when `followLast`). Relative targets that climb above the root and absolute targets
 * outside the root are errors, unless `chroot` (a stage's filesystem): then the root is "/" for every link.
 * A missing component gives undefined.
 */
export async function resolveScoped(root: string, rel: string, followLast: boolean, source = rel, chroot = false): Promise<ScopedPath | undefined> {
  const realRoot = await fsp.realpath(root);
  const todo = rel === "." ? [] : rel.split("/");
  let cur: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (cur.length === 0 && chroot) continue;
      if (cur.length === 0) throw escapeError(source, source, rel);
      cur.pop();
      continue;
    }
    const candidate = [...cur, name];
    const abs = path.join(realRoot, ...candidate);
    let st: Stats;
    try {
      st = await fsp.lstat(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw new KbError("CONTEXT", `Cannot read "${candidate.join("/")}" in the build context: ${code}`, { cause: e });
    }
    if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++hops > MAX_LINKS) {
        throw new KbError("CONTEXT", `Cannot use "${source}": too many levels of symlinks`, { hint: "Look for a symlink loop" });
      }
      const target = await fsp.readlink(abs);
      const via = candidate.join("/");
      if (chroot) {
        if (path.isAbsolute(target)) cur = [];
        todo.unshift(...target.split("/"));
      } else if (path.isAbsolute(target)) {
        const inside = path.relative(realRoot, target);
        if (inside.startsWith("..") || path.isAbsolute(inside)) throw escapeError(source, via, target);
        cur = [];
        todo.unshift(...inside.split(path.sep));
      } else {
        // a climb above the root surfaces as ".." with an empty `cur`
        const climb = [...cur, ...target.split("/")];
        let depth = 0;
        for (const s of climb) {
          if (s === "..") depth--;
          else if (s !== "" && s !== ".") depth++;
          if (depth < 0) throw escapeError(source, via, target);
        }
        todo.unshift(...target.split("/"));
      }
      continue;
    }
    cur = candidate;
  }
  const relOut = cur.length === 0 ? "." : cur.join("/");
  const abs = cur.length === 0 ? realRoot : path.join(realRoot, ...cur);
  return { rel: relOut, abs, st: await fsp.lstat(abs) };
}
