import { afterAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openStore } from "./blob-store.ts";
import { processStartTime, registerProcess, sweepLeftovers } from "./sweep.ts";

const base = mkdtempSync(path.join(tmpdir(), "kb-sweep-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A pid that existed and is gone now. */
function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

test("`sweepLeftovers()` removes a dead process's temp dirs and staged secret, keeps live ones, and sees through pid reuse", async () => {
  const store = await openStore(path.join(base, "store"));
  await registerProcess(store);
  const tmp = store.dirs.tmp;
  const dead = deadPid();
  const secretDir = path.join(tmp, `${dead}-secret-abc`);
  mkdirSync(secretDir, { mode: 0o700 });
  writeFileSync(path.join(secretDir, "token"), "s3cret", { mode: 0o400 });
  chmodSync(secretDir, 0o500); // as a RUN might leave it: not writable
  mkdirSync(path.join(tmp, `${dead}-kb-run-x/root`), { recursive: true });
  writeFileSync(path.join(tmp, `${dead}-owner`), "123");
  const mine = path.join(tmp, `${process.pid}-layer`);
  writeFileSync(mine, "in use");
  // A live process whose pid a dead build once had: its recorded start time differs, so its entries are swept.
  const reused = spawn("sleep", ["30"]);
  writeFileSync(path.join(tmp, `${reused.pid}-owner`), "1");
  writeFileSync(path.join(tmp, `${reused.pid}-tree`), "old");
  try {
    const r = await sweepLeftovers(store);
    expect(r.failed).toEqual([]);
    expect(r.removed.sort()).toEqual([`${dead}-kb-run-x`, `${dead}-secret-abc`, `${reused.pid}-tree`].sort());
    expect(readdirSync(tmp).sort()).toEqual([`${process.pid}-layer`, `${process.pid}-owner`].sort());
    expect(existsSync(mine)).toBe(true);
  } finally {
    reused.kill("SIGKILL");
  }
});

test("`processStartTime()` reads a live process's start and nothing for a dead one", () => {
  expect(processStartTime(process.pid)).toMatch(/^\d+$/);
  expect(processStartTime(deadPid())).toBeUndefined();
});
