// A hash memo kept in the store per context directory, so a warm build re-reads no unchanged file.

import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createMemoryHashMemo, type HashMemo } from "../../context/index.ts";
import type { Store } from "../../store/index.ts";

const MAX = 200_000;

/** Opens the memo of one context root; `save()` writes it back atomically (best effort). */
export async function openHashMemo(store: Store, contextRoot: string): Promise<HashMemo & { save(): Promise<void> }> {
  const dir = join(store.dirs.root, "hash-memo");
  const file = join(dir, `${createHash("sha256").update(contextRoot).digest("hex").slice(0, 32)}.json`);
  const mem = createMemoryHashMemo(MAX);
  const fresh = new Map<string, string>();
  try {
    const rows = JSON.parse(await readFile(file, "utf8")) as unknown;
    if (Array.isArray(rows)) for (const r of rows) if (Array.isArray(r) && typeof r[0] === "string" && /^[a-f0-9]{64}$/.test(r[1])) mem.set(r[0], r[1]);
  } catch {
    // no memo yet, or an unreadable one: start empty
  }
  return {
    get: (k) => mem.get(k),
    set: (k, v) => {
      mem.set(k, v);
      fresh.set(k, v);
    },
    async save() {
      if (fresh.size === 0) return;
      const rows: [string, string][] = [];
      const seen = new Set<string>();
      for (const [k, v] of fresh) (rows.push([k, v]), seen.add(k));
      try {
        const old = JSON.parse(await readFile(file, "utf8")) as [string, string][];
        for (const r of old) if (rows.length < MAX && !seen.has(r[0])) rows.push(r);
      } catch {}
      await mkdir(dir, { recursive: true });
      const tmp = store.tempPath("-memo");
      await writeFile(tmp, JSON.stringify(rows));
      await rename(tmp, file);
    },
  };
}
