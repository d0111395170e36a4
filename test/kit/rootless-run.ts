// Test driver run as an unprivileged user: probe, choose "auto", run a script over a rootfs, print the diff as JSON.
// Usage: bun rootless-run.ts ROOTFS SCRIPT   (KB_SANDBOX_HELPER must point at a helper this user can run)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chooseIsolation, createSandbox, probeIsolation } from "../../src/exec/index.ts";
import { hostToContainer } from "../../src/helper/index.ts";
import { diffUpperDir } from "../../src/snapshot/index.ts";
import { shellSpec } from "./sandbox.ts";

const [rootfs, script] = process.argv.slice(2);
const report = await probeIsolation();
const choice = chooseIsolation("auto", report);
const base = mkdtempSync(path.join(tmpdir(), "kb-rl-"));
try {
  const sb = createSandbox({ isolation: choice.mode, idMap: choice.idMap });
  const spec = shellSpec([rootfs], script, base);
  const result = await sb.run(spec);
  const entries: string[] = [];
  for await (const { entry, body } of diffUpperDir(spec.upperDir, { idMap: hostToContainer(choice.idMap) })) {
    await body?.cancel();
    entries.push(`${entry.type} ${entry.path} ${entry.uid}:${entry.gid}`);
  }
  let t = performance.now();
  for (let i = 0; i < 20; i++) await sb.run(shellSpec([rootfs], "", base, { args: ["/bin/true"] }));
  const overheadMs = (performance.now() - t) / 20;
  console.log(JSON.stringify({ mode: choice.mode, warnings: choice.warnings, result, out: spec.out(), err: spec.err(), entries, overheadMs }));
} finally {
  rmSync(base, { recursive: true, force: true });
}
