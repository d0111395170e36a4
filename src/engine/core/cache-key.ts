// Cache keys: H(parent key, instruction after expansion, what it can see, platform, source content hashes).

import { createHash } from "node:crypto";

/** Version of the key scheme: bump it when what goes into a key changes, so old entries stop matching. */
const KEY_SCHEME = "kb-cache-v3"; // v2: WORKDIR owners, implied parent dirs, empty RUN layers (issue 14); v3: existing parents in COPY/ADD/WORKDIR layers, runtime mount points in RUN layers

/**
 * Derives a child cache key. Parts are length-prefixed so that no two part lists collide.
 * @example cacheKey(parent, "COPY", "src/ /app/", "sha256:…") → 64 hex chars
 */
export function cacheKey(parent: string, ...parts: (string | number | undefined)[]): string {
  const h = createHash("sha256");
  h.update(KEY_SCHEME);
  h.update("\0");
  h.update(parent);
  for (const p of parts) {
    const s = p === undefined ? "\u0001undefined" : String(p);
    h.update(`\0${Buffer.byteLength(s)}:`);
    h.update(s);
  }
  return h.digest("hex");
}

/** The key that starts a stage: its base (a manifest digest, "scratch", or another stage's final key) and platform. */
export function stageRootKey(base: string, platform: string): string {
  return cacheKey("", "FROM", base, platform);
}

/** Stable text for a map of variables (sorted by name) for use inside a key. */
export function envForKey(vars: Iterable<[string, string]>): string {
  return [...vars].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join("\0");
}
