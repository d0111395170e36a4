// Runs the .dockerignore conformance tables (moby/patternmatcher, fsutil walk) and expects 100%.

import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { dockerignoreConformance } from "../../test/conformance/dockerignore.ts";

const confDir = process.env.KB_CONFORMANCE_DIR ?? path.resolve(import.meta.dir, "../../../shared/conformance");
const dir = path.join(confDir, "dockerignore");

test.skipIf(!existsSync(dir))("`dockerignoreConformance()` passes every patternmatcher and walk case", async () => {
  const rows = await dockerignoreConformance(dir);
  for (const r of rows) {
    const skipped = (r.skipped ?? []).map((s) => ` (skipped ${s.count}: ${s.reason})`).join("");
    console.log(`${r.suite.padEnd(30)} ${r.passed}/${r.total}${skipped}`);
    for (const f of r.failures) console.log(`  FAIL ${f}`);
  }
  for (const r of rows) {
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(r.total);
  }
});
if (!existsSync(dir)) console.log(`skipping .dockerignore conformance: "${dir}" not found (set KB_CONFORMANCE_DIR)`);
