// Conformance against BuildKit's parser and shell-expansion data and Docker's .dockerignore tables
// (read from $KB_CONFORMANCE_DIR, default ../shared/conformance; never copied into the project).

import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { dockerfileConformance } from "./conformance/dockerfile.ts";
import { dockerignoreConformance } from "./conformance/dockerignore.ts";

const dir = process.env.KB_CONFORMANCE_DIR ?? path.resolve(import.meta.dir, "../../shared/conformance");
const present = fs.existsSync(path.join(dir, "dockerfile-parser"));
if (!present) console.log(`conformance: skipped: no conformance data at ${dir} (set KB_CONFORMANCE_DIR)`);

test.skipIf(!present)("conformance: every BuildKit parser, heredoc, lexer and .dockerignore case passes", async () => {
  const rows = [...(await dockerfileConformance(dir)), ...(await dockerignoreConformance(path.join(dir, "dockerignore")))];
  const w = Math.max(...rows.map((r) => r.suite.length));
  console.log("conformance:");
  for (const r of rows) {
    const skipped = (r as { skipped?: { count: number; reason: string }[] }).skipped ?? [];
    const note = skipped.map((s) => `${s.count} skipped: ${s.reason}`).join("; ");
    console.log(`  ${r.suite.padEnd(w)}  ${String(r.passed).padStart(4)}/${r.total}${note ? `  (${note})` : ""}`);
  }
  for (const r of rows) {
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(r.total);
  }
});
