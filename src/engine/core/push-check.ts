// Starts the registry push check beside the first build steps; a failure aborts the build at once.

import { parseReference } from "../../image/reference.ts";
import { checkPushAccess, type PushTarget, type RegistryClient } from "../../registry/index.ts";
import type { BuildOptions } from "./options.ts";
import { parseTags } from "../outputs/outputs.ts";

/** The repositories a build will push to: every tag, and the cache repo. Empty with --no-push. */
export function pushTargets(opts: BuildOptions): PushTarget[] {
  if (opts.noPush) return [];
  const targets: PushTarget[] = parseTags(opts).map((ref) => ({ ref, role: "destination" }));
  if (opts.cacheRepo && !opts.noCache) targets.push({ ref: parseReference(opts.cacheRepo), role: "cache repo" });
  return targets;
}

/**
 * Runs the push check in the background. When it fails, `abort` is aborted with the check's error (so running
 * steps stop); `done()` rethrows it, and resolves once the check passed.
 */
export function startPushCheck(opts: BuildOptions, client: RegistryClient, env: Record<string, string | undefined>, abort: AbortController): { done(): Promise<void> } {
  const targets = opts.skipPushCheck ? [] : pushTargets(opts);
  if (!targets.length) return { done: async () => undefined };
  const p = checkPushAccess(client, targets, { signal: abort.signal, env }).then(
    () => undefined,
    (e) => {
      if (!abort.signal.aborted) abort.abort(e);
      throw e;
    },
  );
  p.catch(() => undefined);
  return { done: () => p };
}
