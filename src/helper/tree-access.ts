// unlockTree / relockTree: let a rootless caller read a RUN's upperdir whose entries shut it out, and put
// the modes back afterwards. The helper does it as root of a user namespace with the RUN's id map.

import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { KbError } from "../errors.ts";
import { resolveHelperPath } from "./helper-path.ts";
import type { IdMapping } from "./ids.ts";
import { idMapRecords, recordWriter } from "./records.ts";

/** Path relative to the tree ("." for its root) → the mode (07777 bits) it had before unlockTree. */
export type ModeOverrides = Map<string, number>;

/** Options of {@link unlockTree} and {@link relockTree}. */
export interface TreeAccessOptions {
  /** @default resolveHelperPath() */
  helperPath?: string;
}

/** Splits helper output into its NUL-terminated fields; undefined when the last one lacks its NUL. */
export function splitNulFields(bytes: Uint8Array): string[] | undefined {
  const dec = new TextDecoder();
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    fields.push(dec.decode(bytes.subarray(start, i)));
    start = i + 1;
  }
  return start === bytes.length ? fields : undefined;
}

/** Parses `kb-sandbox unlock` output: NUL-terminated (path, octal mode) pairs. */
export function parseUnlockOutput(bytes: Uint8Array): ModeOverrides {
  const out: ModeOverrides = new Map();
  const fields = splitNulFields(bytes);
  if (!fields || fields.length % 2 !== 0) {
    throw new KbError("SANDBOX", "Cannot read the modes the helper changed: its output is truncated", {
      hint: "check that the kb-sandbox helper matches this kb version",
    });
  }
  for (let i = 0; i < fields.length; i += 2) {
    const [p, m] = [fields[i]!, fields[i + 1]!];
    if (!p || !/^[0-7]{1,4}$/.test(m)) {
      throw new KbError("SANDBOX", `Cannot read the mode the helper changed on "${p}": "${m.slice(0, 20)}" is not an octal mode`, {
        hint: "check that the kb-sandbox helper matches this kb version",
      });
    }
    out.set(p, parseInt(m, 8));
  }
  return out;
}

function helperRun(helper: string, cmd: string, dir: string, config: string[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const c = spawn(helper, [cmd, dir], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let err = "";
    c.stdout!.on("data", (d: Buffer) => chunks.push(d));
    c.stderr!.on("data", (d: Buffer) => { if (err.length < 4096) err += d.toString(); });
    const cfg = c.stdio[3] as Writable;
    cfg.on("error", () => {});
    cfg.end(config.join(""));
    c.on("error", (e) => reject(new KbError("SANDBOX", `Cannot start the sandbox helper "${helper}": ${e.message}`, { cause: e })));
    c.on("close", (code) => {
      if (code === 0) return resolve(new Uint8Array(Buffer.concat(chunks)));
      const text = err.trim().replace(/^kb-sandbox: /, "");
      const old = /usage: kb-sandbox/.test(text);
      reject(new KbError("SANDBOX", `Cannot ${cmd} the RUN's changes in "${dir}" as the user namespace's root: ${old ? "the helper has no such command" : text || `exit ${code}`}`, {
        hint: old
          ? `the kb-sandbox helper "${helper}" is older than this kb: rebuild it (scripts/build-helper.sh dist) or unset KB_SANDBOX_HELPER`
          : 'run "kb doctor" to check that user namespaces and newuidmap work for this user',
      }));
    });
  });
}

/**
 * Adds read (and search, for dirs) for the caller to every entry under `dir` it cannot read, working
 * as root of a user namespace with `idMap`. Returns the modes before the change, for {@link relockTree}
 * and for the layer (which must record the true modes).
 * @example const saved = await unlockTree(upperDir, idMap); try { ... } finally { await relockTree(upperDir, idMap, saved); }
 */
export async function unlockTree(dir: string, idMap: IdMapping, opts: TreeAccessOptions = {}): Promise<ModeOverrides> {
  const out: string[] = [];
  idMapRecords(recordWriter(out), idMap);
  return parseUnlockOutput(await helperRun(opts.helperPath ?? (await resolveHelperPath()), "unlock", dir, out));
}

/** Removes `dir` and all in it from inside the user namespace (entries the caller can neither enter nor empty). */
export async function removeTree(dir: string, idMap: IdMapping, opts: TreeAccessOptions = {}): Promise<void> {
  const out: string[] = [];
  idMapRecords(recordWriter(out), idMap);
  await helperRun(opts.helperPath ?? (await resolveHelperPath()), "rmtree", dir, out);
}

/** Puts back the modes {@link unlockTree} changed (setuid, setgid and sticky bits included). */
export async function relockTree(dir: string, idMap: IdMapping, saved: ModeOverrides, opts: TreeAccessOptions = {}): Promise<void> {
  if (saved.size === 0) return;
  const out: string[] = [];
  const rec = recordWriter(out);
  idMapRecords(rec, idMap);
  for (const [p, mode] of saved) rec("mode", p, mode.toString(8));
  await helperRun(opts.helperPath ?? (await resolveHelperPath()), "relock", dir, out);
}
