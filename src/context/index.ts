// Build context: opening it, .dockerignore, walking, COPY/ADD source resolution and content hashing.
export { type IgnoreMatcher, type MatchInfo, NO_MATCH_INFO, compileIgnore, findDockerignore, parseDockerignore } from "./dockerignore.ts";
export { type ContextEntry, type WalkOptions, toContextEntry, walkContext } from "./walk.ts";
export { type ResolveOptions, type ResolvedSource, resolveSources } from "./sources.ts";
export { type SourceEntry, walkSource } from "./walk-source.ts";
export { type HashMemo, type HashOptions, createMemoryHashMemo, hashEntryFile, hashFile, hashSources, memoKey, SourcesDigest, unreadable } from "./hash.ts";
export { type BuildContext, type OpenContextOptions, openContext } from "./open.ts";
export { cleanPath } from "./_go-path.ts";
export { resolveScoped, type ScopedPath } from "./_scoped.ts";
