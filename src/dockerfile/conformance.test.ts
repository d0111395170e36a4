// Runs the Dockerfile conformance suites and expects every row at 100%.

import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { dockerfileConformance } from "../../test/conformance/dockerfile.ts";

const dir = process.env.KB_CONFORMANCE_DIR ?? path.resolve(import.meta.dir, "../../../shared/conformance");

test("`dockerfileConformance()` passes every BuildKit parser and lexer case", async () => {
  if (!fs.existsSync(path.join(dir, "dockerfile-parser"))) {
    console.log(`skipped: no conformance data at ${dir} (set KB_CONFORMANCE_DIR)`);
    return;
  }
  const rows = await dockerfileConformance(dir);
  console.table(rows.map((r) => ({ suite: r.suite, passed: r.passed, total: r.total })));
  for (const r of rows) {
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(r.total);
  }
});
