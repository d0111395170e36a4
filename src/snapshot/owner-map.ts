// Rootless with a subordinate id range: files kb extracts (it cannot chown outside a user namespace) belong to
// the caller, which the RUN's namespace shows as 0:0. This gives them their image owners by chowning from inside
// a user namespace with the RUN's id map (util-linux `unshare`, then the setuid newuidmap/newgidmap), so a RUN
// as `USER nobody` sees /app/f owned by nobody, as Docker does.

import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KbError } from "../errors.ts";
import type { IdMapping } from "../helper/index.ts";

/** What to set on one path (absolute): container ids, and the mode again when chown clears set-id bits. */
export interface OwnerFix { path: string; uid: number; gid: number; mode?: number }

const SCRIPT = `read _ || exit 1
cd "$1" || exit 1
for f in own-*; do [ -e "$f" ] || continue; xargs -0 -r chown -h "\${f#own-}" < "$f" || exit 1; done
for f in mode-*; do [ -e "$f" ] || continue; xargs -0 -r chmod "\${f#mode-}" < "$f" || exit 1; done
`;

/** True when `map` has a subordinate range (more than the caller's own id) and the tools to write it. */
export function canMapOwners(map: IdMapping | undefined): map is IdMapping & { newuidmap: string; newgidmap: string } {
  return !!map?.newuidmap && !!map.newgidmap && map.uids.some((r) => r.inside !== 0 || r.count > 1);
}

const ranges = (rs: IdMapping["uids"]) => rs.flatMap((r) => [String(r.inside), String(r.outside), String(r.count)]);

/** Sets owners (and set-id modes) of `fixes` as root of a user namespace with `map`. */
export async function chownThroughMapping(map: IdMapping & { newuidmap: string; newgidmap: string }, fixes: OwnerFix[]): Promise<void> {
  if (!fixes.length) return;
  const dir = await mkdtemp(join(tmpdir(), "kb-owners-"));
  try {
    const own = new Map<string, string[]>();
    const modes = new Map<string, string[]>();
    for (const f of fixes) {
      const k = `${f.uid}:${f.gid}`;
      own.set(k, [...(own.get(k) ?? []), f.path]);
      if (f.mode !== undefined && f.mode & 0o6000) {
        const m = (f.mode & 0o7777).toString(8);
        modes.set(m, [...(modes.get(m) ?? []), f.path]);
      }
    }
    for (const [k, ps] of own) await writeFile(join(dir, `own-${k}`), ps.map((p) => `${p}\0`).join(""));
    for (const [m, ps] of modes) await writeFile(join(dir, `mode-${m}`), ps.map((p) => `${p}\0`).join(""));
    await new Promise<void>((resolve, reject) => {
      const child = spawn("unshare", ["--user", "--", "sh", "-c", `echo ready; ${SCRIPT}`, "sh", dir], { stdio: ["pipe", "pipe", "pipe"] });
      let err = "";
      let mapped = false;
      child.stderr.on("data", (d) => { if (err.length < 4096) err += d; });
      child.stdout.on("data", () => {
        if (mapped) return;
        mapped = true;
        // The namespace exists once the shell runs: write its maps, then let it go on.
        const pid = String(child.pid);
        const u = spawnSync(map.newuidmap, [pid, ...ranges(map.uids)], { encoding: "utf8" });
        const g = spawnSync(map.newgidmap, [pid, ...ranges(map.gids)], { encoding: "utf8" });
        if (u.status !== 0 || g.status !== 0) err += `${u.stderr}${g.stderr}`;
        child.stdin.end("go\n");
      });
      child.on("error", (e) => reject(e));
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(err.trim() || `exit ${code}`))));
    });
  } catch (e) {
    throw new KbError("SANDBOX", `Cannot give extracted files their owners in the user namespace: ${(e as Error).message}`, {
      hint: 'kb needs util-linux "unshare" and newuidmap/newgidmap (uidmap) for rootless builds with a subordinate id range; run "kb doctor"',
      cause: e,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
