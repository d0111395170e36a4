// A tiny entry point compiled like kb (build.ts --entry) to test the embedded sandbox helper on its own:
// prints the resolved helper path and what `helper version` says, or the KbError.
import { execFileSync } from "node:child_process";
import { resolveHelperPath } from "../../src/helper/helper-path.ts";

try {
  const p = await resolveHelperPath();
  const v = execFileSync(p, ["version"], { encoding: "utf8" }).trim();
  process.stdout.write(JSON.stringify({ path: p, version: v }) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ error: (e as Error).message, code: (e as { code?: string }).code }) + "\n");
  process.exit(1);
}
