// Runs the escape probe in a RUN sandbox as the calling user (root → root mode; others → rootless) and prints
// one JSON line: { mode, rows: [{ attempt, result, detail }] }.
// Usage: bun _escape-driver.ts ROOTFS HOST_PID HOST_PORT NETWORK [ISOLATION]   (KB_SANDBOX_HELPER runnable by this user)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { shellSpec } from "../kit/sandbox.ts";
import { chooseIsolation, probeIsolation } from "../../src/exec/isolation.ts";
import { findPasta } from "../../src/exec/network.ts";
import { createSandbox } from "../../src/exec/sandbox.ts";
import type { RunSpec } from "../../src/exec/types.ts";

const [rootfs, hostPid, port, network, isolation = "auto"] = process.argv.slice(2);
const choice = chooseIsolation(isolation as "auto", await probeIsolation());
const base = mkdtempSync(path.join(tmpdir(), "kb-escape-"));
try {
  const sb = createSandbox({ isolation: choice.mode, idMap: choice.idMap });
  const spec = shellSpec([rootfs!], "", base, { args: ["/probe", hostPid!, port!], network: network as RunSpec["network"], pastaPath: findPasta() });
  const result = await sb.run(spec);
  const rows = spec.out().split("\n").filter(Boolean).map((l) => {
    const [attempt, result, detail] = l.split("\t");
    return { attempt, result, detail };
  });
  console.log(JSON.stringify({ mode: choice.mode, exitCode: result.exitCode, err: spec.err(), rows }));
} finally {
  rmSync(base, { recursive: true, force: true });
}
