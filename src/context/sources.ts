// COPY/ADD source resolution: cleaning, wildcards, .dockerignore visibility, --parents pivots, escapes.

import { KbError } from "../errors.ts";
import { cleanPath, containsWildcards, goMatch } from "./_go-path.ts";
import { resolveScoped } from "./_scoped.ts";
import { type IgnoreMatcher, compileIgnore } from "./dockerignore.ts";
import { type ContextEntry, toContextEntry, walkContext } from "./walk.ts";

/** Options of resolveSources. */
export interface ResolveOptions {
  /** The context's .dockerignore: ignored paths are invisible. */
  matcher?: IgnoreMatcher | null;
  /** COPY --exclude patterns, matched against paths relative to each source (a file source: its name). */
  excludes?: string[];
  /** COPY --parents: keep the source's parent dirs (after a `/./` pivot when present) under the destination. */
  parents?: boolean;
  /** A wildcard that matches nothing is fine (BuildKit's AllowEmptyWildcard). @default true */
  allowEmptyWildcard?: boolean;
  /** The root is a stage's or image's filesystem (COPY --from): its symlinks resolve inside it as in a chroot. */
  chroot?: boolean;
}

/** One matched source, ready to be walked with walkSource(). */
export interface ResolvedSource {
  /** The source as written in the instruction. */
  source: string;
  /** The matched context-relative path before following a top-level symlink. */
  path: string;
  /** The context-relative path after following symlinks inside the context. */
  realPath: string;
  /** The followed target's entry (path = realPath). */
  entry: ContextEntry;
  /** Where it lands under the destination: "" for a dir's contents, the file name, or the kept parents. */
  destBase: string;
  root: string;
  matcher: IgnoreMatcher | null;
  excludes: IgnoreMatcher | null;
}

function sourceError(source: string, state: string, hint: string): KbError {
  return new KbError("CONTEXT", `Cannot resolve COPY source "${source}": ${state}`, { hint });
}

/** Cleans a source: a leading "/" means the context root; ".." that leaves the root is an error. */
function cleanSource(source: string): string {
  let p = cleanPath(source);
  if (p.startsWith("/")) p = cleanPath(p.slice(1) || ".");
  if (p === ".." || p.startsWith("../")) {
    throw sourceError(source, "it is outside the build context", "Sources are relative to the context root; move the file into the context");
  }
  return p;
}

const basename = (p: string) => (p === "." ? "" : p.slice(p.lastIndexOf("/") + 1));

async function visible(root: string, rel: string, matcher: IgnoreMatcher | null): Promise<boolean> {
  if (!matcher || rel === "." || !matcher.matches(rel)) return true;
  if (!matcher.canReincludeUnder(rel)) return false;
  for await (const _ of walkContext(root, matcher, { start: rel })) return true; // a re-included descendant
  return false;
}

/**
 * Resolves COPY/ADD sources against the context like BuildKit: Go filepath.Match wildcards per path
 * segment (matched dirs are not descended), a missing literal path is an error, a wildcard matching
 * nothing is not, .dockerignore'd paths are invisible, and nothing outside the root is reachable.
 * @example await resolveSources("/ctx", ["src/*.ts", "package.json"], { matcher })
 */
export async function resolveSources(root: string, patterns: string[], opts: ResolveOptions = {}): Promise<ResolvedSource[]> {
  const matcher = opts.matcher ?? null;
  const excludes = opts.excludes?.length ? compileIgnore(opts.excludes) : null;
  const out: ResolvedSource[] = [];
  for (const source of patterns) {
    let pivot = "";
    let text = source;
    const at = opts.parents ? source.indexOf("/./") : -1;
    if (at >= 0) {
      pivot = cleanSource(source.slice(0, at) || ".");
      text = source.slice(0, at) + "/" + source.slice(at + 3);
    }
    const clean = cleanSource(text);
    const destBaseOf = (matched: string, isDir: boolean) => {
      if (!opts.parents) return isDir ? "" : basename(matched);
      if (pivot === "." || pivot === "") return matched === "." ? "" : matched;
      return matched === pivot ? "" : matched.slice(pivot.length + 1);
    };
    const add = async (matched: string) => {
      const r = await resolveScoped(root, matched, true, source, opts.chroot);
      if (!r || !(await visible(root, r.rel, matcher))) return false;
      const entry = await toContextEntry(r.rel, r.abs, r.st);
      out.push({
        source, path: matched, realPath: r.rel, entry, destBase: destBaseOf(matched, entry.type === "dir"),
        root, matcher, excludes,
      });
      return true;
    };
    const segs = clean === "." ? [] : clean.split("/");
    const w = segs.findIndex(containsWildcards);
    if (w < 0) {
      if (!(await add(clean))) {
        throw sourceError(source, `"/${clean === "." ? "" : clean}" not found in the build context`,
          "Check the path (it is relative to the context root) and that .dockerignore does not exclude it");
      }
      continue;
    }
    const matches = await matchWildcard(root, segs, w, matcher, opts.parents === true, source, opts.chroot);
    for (const m of matches) await add(m);
    if (matches.length === 0 && opts.allowEmptyWildcard === false) {
      throw sourceError(source, "no files match", "Check the pattern; it uses Go filepath.Match syntax");
    }
  }
  return out;
}

/** Context-relative paths matching segs (first wildcard at index w), in walk order. */
async function matchWildcard(
  root: string, segs: string[], w: number, matcher: IgnoreMatcher | null, parents: boolean, source: string, chroot = false,
): Promise<string[]> {
  const baseRel = segs.slice(0, w).join("/") || ".";
  const base = await resolveScoped(root, baseRel, true, source, chroot);
  if (!base || !base.st.isDirectory()) return [];
  const rest = segs.slice(w).join("/");
  // --parents uses patternmatcher semantics, so `**` spans directories; otherwise filepath.Match.
  const doubleStar = parents && rest.includes("**");
  const pm = doubleStar ? compileIgnore([rest]) : null;
  const maxDepth = doubleStar ? undefined : rest.split("/").length;
  const found: string[] = [];
  let skipUnder: string | null = null;
  try {
    for await (const e of walkContext(root, matcher, { start: base.rel, maxDepth })) {
      if (e.path === base.rel) continue;
      if (skipUnder !== null && e.path.startsWith(skipUnder)) continue;
      const rel = base.rel === "." ? e.path : e.path.slice(base.rel.length + 1);
      if (!(pm ? pm.matches(rel) : goMatch(rest, rel))) continue;
      found.push(baseRel === "." ? rel : `${baseRel}/${rel}`);
      skipUnder = e.type === "dir" ? `${e.path}/` : null;
    }
  } catch (e) {
    if (e instanceof KbError) throw e;
    throw sourceError(source, `the pattern is malformed (${(e as Error).message})`, 'Close every "[...]" class and escape a literal "[" as "[[]"');
  }
  return found;
}
