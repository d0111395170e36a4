// Per-run scratch dir: the rootfs mount point, the stub lower dir and the generated /etc files.

import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { HelperLayout } from "./_config.ts";
import type { RunSpec } from "./types.ts";

/** A scratch dir for one run; `dispose()` removes it (after the helper has exited). */
export interface Scratch extends HelperLayout {
  dir: string;
  dispose(): void;
}

function touch(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, "", { mode: 0o644, flag: "a" });
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return true;
  }
}

/**
 * Lays out the scratch dir. The stub lower dir sits below every image layer, so the layers win
 * for attributes and the mount points never reach the upperdir (the diff).
 */
export function createScratch(spec: RunSpec, base = spec.scratchDir ?? tmpdir()): Scratch {
  // "<pid>-" first: a store's prune removes what a dead process left in its tmp/ (a SIGKILLed build).
  const dir = mkdtempSync(path.join(base, `${process.pid}-kb-run-`));
  const rootfs = path.join(dir, "root");
  const stubs = path.join(dir, "stubs");
  mkdirSync(rootfs, { mode: 0o755 });
  for (const d of ["proc", "dev", "sys", "etc"]) mkdirSync(path.join(stubs, d), { recursive: true, mode: 0o755 });
  const etcFiles: [string, string][] = [];
  const etc: [string, string][] = [["hosts", spec.etc.hosts], ["resolv.conf", spec.etc.resolvConf]];
  for (const [name, text] of etc) {
    const host = path.join(dir, `etc-${name}`);
    writeFileSync(host, text, { mode: 0o644 });
    touch(path.join(stubs, "etc", name));
    etcFiles.push([host, `/etc/${name}`]);
  }
  for (const m of spec.mounts) {
    const stub = path.join(stubs, path.posix.normalize("/" + m.target));
    if (m.type === "bind" && !isDir(m.source)) touch(stub);
    else mkdirSync(stub, { recursive: true, mode: 0o755 });
  }
  return {
    dir, rootfs, stubs, etcFiles, pastaPidFile: path.join(dir, "pasta.pid"),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
