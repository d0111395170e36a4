// One network namespace (with pasta) per root-mode sandbox, joined by each RUN: pasta's start (100+ ms) is paid
// once per build instead of once per RUN. Rootless RUNs make their own (each has its own user namespace).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { KbError } from "../errors.ts";
import { recordWriter } from "../helper/records.ts";

/** A held network namespace: its path for the helper's `netns` record, and how to let it go. */
export interface NetHolder {
  nsPath: string;
  child: ChildProcess;
  stop(): void;
}

/** Starts `kb-sandbox netns-hold` and resolves once pasta has configured the namespace. */
export async function startNetHolder(helper: string, pastaPath: string, scratchDir = tmpdir()): Promise<NetHolder> {
  const dir = mkdtempSync(path.join(scratchDir, `${process.pid}-kb-net-`));
  const out: string[] = [];
  const rec = recordWriter(out);
  rec("pasta", pastaPath);
  rec("pastapid", path.join(dir, "pasta.pid"));
  const child = spawn(helper, ["netns-hold"], { stdio: ["pipe", "pipe", "pipe", "pipe"] });
  const stop = () => {
    (child.stdin as Writable).end();
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  (child.stdio[3] as Writable).on("error", () => {});
  (child.stdio[3] as Writable).end(new TextEncoder().encode(out.join("")));
  let err = "";
  (child.stderr as Readable).on("data", (d: Buffer) => { if (err.length < 4096) err += d.toString(); });
  try {
    await new Promise<void>((resolve, reject) => {
      (child.stdout as Readable).once("data", () => resolve());
      child.once("error", reject);
      child.once("exit", (c) => reject(new Error(`exited with ${c}`)));
    });
  } catch (e) {
    stop();
    throw new KbError("SANDBOX", `Cannot start the RUN network (pasta): ${err.trim() || (e as Error).message}`, {
      hint: "check that passt works here, or use --network host or --network none",
    });
  }
  child.unref();
  for (const s of [child.stdout, child.stderr, child.stdin]) (s as unknown as { unref?: () => void })?.unref?.();
  return { nsPath: `/proc/${child.pid}/ns/net`, child, stop };
}
