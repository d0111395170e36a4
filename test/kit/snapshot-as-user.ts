// Test driver run as an unprivileged user with a subuid range (via setpriv): snapshots or unlocks a tree
// the test prepared as root, and prints what it saw as JSON on the last line.
// Usage: bun snapshot-as-user.ts snapshot|unlock DIR MAPPING-JSON   (KB_SANDBOX_HELPER must be runnable by this user)

import { readFileSync } from "node:fs";
import path from "node:path";
import { type IdMapping, relockTree, unlockTree } from "../../src/helper/index.ts";
import { openUpperSnapshot, scanXattrs } from "../../src/snapshot/index.ts";

const [op, dir, mappingJson] = process.argv.slice(2) as [string, string, string];
const mapping = JSON.parse(mappingJson) as IdMapping;
const before = (await scanXattrs(dir)).unreadable;

async function text(body: ReadableStream<Uint8Array> | undefined): Promise<string | undefined> {
  return body ? await new Response(body).text() : undefined;
}

if (op === "unlock") {
  const saved = await unlockTree(dir, mapping);
  const after = (await scanXattrs(dir)).unreadable;
  const content = readFileSync(path.join(dir, "d/f"), "utf8");
  await relockTree(dir, mapping, saved);
  console.log(JSON.stringify({ before, after, saved: [...saved].map(([p, m]) => `${p} ${m.toString(8)}`), content }));
} else {
  const t0 = performance.now();
  const snap = await openUpperSnapshot(dir, { idMapping: mapping });
  const entries: string[] = [];
  for await (const { entry, body } of snap.entries) {
    const x = entry.xattrs ? ` ${JSON.stringify(entry.xattrs)}` : "";
    const link = entry.linkname ? ` -> ${entry.linkname}` : "";
    const data = await text(body);
    entries.push(`${entry.type} ${entry.path}${link} ${entry.mode.toString(8)} ${entry.uid}:${entry.gid}${data !== undefined ? ` ${JSON.stringify(data)}` : ""}${x}`);
  }
  console.log(JSON.stringify({ before, unlocked: snap.unlocked, entries, ms: performance.now() - t0 }));
}
