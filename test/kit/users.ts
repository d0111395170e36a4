// Running kb as other users (rootless tests while CI runs as root): nobody (a single id) and kbtest (a subuid range).

import { chmodSync, copyFileSync, readFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { resolveHelperPath } from "../../src/helper/index.ts";
import { must, tempDir } from "./kb.ts";

/** Why the rootless suites cannot run here, or undefined when they can. */
export function rootlessSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: the suite switches users";
  if (spawnSync("unshare", ["--user", "true"]).status !== 0) return "user namespaces are not allowed here";
  return undefined;
}

/** Creates the `kbtest` user with subordinate ids 200000-265535 when missing (as root). */
export function ensureSubidUser(): void {
  if (spawnSync("id", ["kbtest"]).status !== 0) must("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "kbtest"]);
  if (!readFileSync("/etc/subuid", "utf8").includes("kbtest:")) must("usermod", ["--add-subuids", "200000-265535", "--add-subgids", "200000-265535", "kbtest"]);
}

/** A fresh home directory owned by `owner`. */
export function userHome(owner: string): string {
  const h = tempDir("kb-home-");
  execFileSync("chown", [owner, h]);
  chmodSync(h, 0o755);
  return h;
}

/** Runs `kb ARGS` from the sources as `user:group` (setpriv), with HOME, cache and TMPDIR in `home`. */
export function kbAs(user: string, group: string, home: string, args: string[], helper = process.env.KB_SANDBOX_HELPER) {
  const r = spawnSync("setpriv", [`--reuid=${user}`, `--regid=${group}`, "--init-groups", "env", `HOME=${home}`, `XDG_CACHE_HOME=${home}/.cache`, `TMPDIR=${home}`,
    ...(helper ? [`KB_SANDBOX_HELPER=${helper}`] : []), process.execPath, join(import.meta.dir, "../../src/main.ts"), ...args], { encoding: "utf8", cwd: home });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The sandbox helper built from this checkout's sources, copied where other users (nobody, kbtest) can run it. */
export async function helperForOtherUsers(): Promise<string> {
  const dir = tempDir("kb-helper-");
  chmodSync(dir, 0o755);
  const helper = join(dir, "kb-sandbox");
  copyFileSync(await resolveHelperPath(), helper);
  chmodSync(helper, 0o755);
  return helper;
}
