// A registry that accepts the connection and never answers must not hang kb: the request times out
// (KB_REGISTRY_TIMEOUT), is retried, and ends in a clear error.

import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

test("a silent registry gives an error after the timeout and the retries, not a hang", async () => {
  const sockets: import("node:net").Socket[] = [];
  const server = createServer((s) => void sockets.push(s)); // accept, read nothing, answer nothing
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(import.meta.dir, "../../src/main.ts"), "inspect", `127.0.0.1:${port}/silent/image:1`], {
      encoding: "utf8",
      env: { ...process.env, KB_REGISTRY_TIMEOUT: "1" },
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no answer from");
    expect(performance.now() - t0).toBeLessThan(60_000); // it ended by itself (spawnSync's own limit is 60 s)
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
}, 90_000);
