// Reachability for GC: a record's refs plus, for manifests and indexes among them, their children.

import { readFile } from "node:fs/promises";
import { isDigest, type Digest } from "../image/types.ts";
import type { BlobStore } from "./blob-store.ts";

const JSON_LIMIT = 4 * 1024 * 1024;

/** Children named by a stored manifest or index blob; [] for anything else (memoised in `memo`). */
async function children(store: BlobStore, d: Digest, memo: Map<Digest, Digest[]>): Promise<Digest[]> {
  const known = memo.get(d);
  if (known) return known;
  let out: Digest[] = [];
  const st = await store.stat(d);
  if (st && st.size <= JSON_LIMIT) {
    const bytes = await readFile(store.path(d)).catch(() => undefined);
    if (bytes && bytes[0] === 0x7b) {
      try {
        const v = JSON.parse(new TextDecoder().decode(bytes)) as { config?: { digest?: unknown }; layers?: Array<{ digest?: unknown }>; manifests?: Array<{ digest?: unknown }> };
        const named = [v.config?.digest, ...(v.layers ?? []).map((l) => l?.digest), ...(v.manifests ?? []).map((m) => m?.digest)];
        out = named.filter(isDigest);
      } catch {
        out = [];
      }
    }
  }
  memo.set(d, out);
  return out;
}

/** The closure of `roots` over manifest/index children. */
export async function blobRefs(store: BlobStore, roots: Digest[], memo: Map<Digest, Digest[]>): Promise<Set<Digest>> {
  const seen = new Set<Digest>();
  const todo = [...roots];
  while (todo.length) {
    const d = todo.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    todo.push(...(await children(store, d, memo)));
  }
  return seen;
}
