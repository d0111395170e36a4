// Walking one resolved COPY/ADD source: its entries with their place under the destination.

import type { ResolvedSource } from "./sources.ts";
import { type ContextEntry, walkContext } from "./walk.ts";

/** A context entry plus its path relative to the COPY destination ("" is the destination itself). */
export interface SourceEntry extends ContextEntry {
  destRel: string;
}

const join = (a: string, b: string) => (a === "" ? b : b === "" ? a : `${a}/${b}`);

/**
 * Yields what copying `src` reads: a file source once (its top-level symlink already followed), a
 * directory first itself and then its contents in walk order, minus .dockerignore'd and --exclude'd
 * paths (an excluded dir is yielded only before a re-included descendant). Inner symlinks stay symlinks.
 * @example for await (const e of walkSource(src)) console.log(e.destRel, e.type)
 */
export async function* walkSource(src: ResolvedSource): AsyncGenerator<SourceEntry> {
  const { entry } = src;
  const ex = src.excludes;
  if (entry.type !== "dir") {
    if (!ex?.matches(entry.path.slice(entry.path.lastIndexOf("/") + 1))) yield { ...entry, destRel: src.destBase };
    return;
  }
  yield { ...entry, destRel: src.destBase };
  const pending: { sub: string; e: SourceEntry }[] = [];
  let prune: string | null = null;
  const opts = entry.path === "." ? {} : { start: entry.path };
  for await (const e of walkContext(src.root, src.matcher, opts)) {
    if (e.path === entry.path) continue;
    const sub = entry.path === "." ? e.path : e.path.slice(entry.path.length + 1);
    if (prune !== null && sub.startsWith(prune)) continue;
    prune = null;
    while (pending.length > 0 && !sub.startsWith(`${pending[pending.length - 1].sub}/`)) pending.pop();
    const out: SourceEntry = { ...e, destRel: join(src.destBase, sub) };
    if (ex?.matches(sub)) {
      if (e.type === "dir" && ex.canReincludeUnder(sub)) pending.push({ sub, e: out });
      else if (e.type === "dir") prune = `${sub}/`;
      continue;
    }
    for (const p of pending.splice(0)) yield p.e;
    yield out;
  }
}
