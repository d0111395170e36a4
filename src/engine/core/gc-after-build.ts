// The store GC after a build: brings the store under its cap (flag, KB_CACHE_MAX_SIZE, or BuildKit's default),
// with trees that only the user namespace can remove handed to the sandbox helper's rmtree.

import { chooseIsolation, probeIsolation } from "../../exec/index.ts";
import { removeTree, type IdMapping } from "../../helper/index.ts";
import type { EventSink } from "../../log/index.ts";
import { collectGarbage, storeCap, type Store } from "../../store/index.ts";

/** A remover that probes the user namespace once, on first need, and runs the helper's rmtree in it. */
export function userNamespaceRemover(): (dir: string) => Promise<void> {
  let idMap: Promise<IdMapping | undefined> | undefined;
  return async (dir) => {
    idMap ??= probeIsolation().then((r) => chooseIsolation("auto", r).idMap);
    const map = await idMap;
    if (!map) throw new Error(`cannot remove "${dir}": no user namespace is available to remove it from`);
    await removeTree(dir, map);
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Runs the GC; a failure is a warning, never a failed build. */
export async function gcAfterBuild(store: Store, cacheMaxBytes: number | undefined, sink: EventSink): Promise<void> {
  try {
    const cap = await storeCap(store, cacheMaxBytes);
    const r = await collectGarbage(store, cap.bytes, { removeTree: userNamespaceRemover() });
    if (!r) return;
    const kept = r.skipped.records + r.skipped.trees + r.skipped.blobs;
    sink.emit({
      type: "info",
      message: `store GC: ${mb(r.before)} -> ${mb(r.after)} (cap ${mb(r.cap)}${cap.source === "default" ? ", default" : ""}): removed ${r.records} records, ${r.trees} trees, ${r.blobs} blobs${kept ? `; kept ${kept} in use by ${r.leases} running build(s)` : ""}`,
    });
  } catch (e) {
    sink.emit({ type: "warning", message: `store GC skipped: ${(e as Error).message}` });
  }
}
