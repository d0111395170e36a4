// openUpperSnapshot as a rootless caller (kbtest, an /etc/subuid range, via setpriv) over upperdirs prepared
// as root the way a rootless RUN leaves them: entries owned by subordinate ids with modes that shut kb out.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, linkSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveHelperPath } from "../helper/helper-path.ts";
import { subidMapping, type IdMapping } from "../helper/ids.ts";

const USER = "kbtest";
const SUB = 200000;
const isRoot = process.getuid?.() === 0;
const tools = ["setpriv", "setfattr", "newuidmap"].filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
const skip = !isRoot ? "not root: cannot switch to kbtest" : tools.length ? `missing ${tools.join(", ")} (apt-get install util-linux attr uidmap)` : undefined;
if (skip) console.log(`upper-snapshot.test.ts: skipped: ${skip}`);

let base = "";
let helper = "";
let caller = { uid: 0, gid: 0 };
let mapping: IdMapping;

beforeAll(async () => {
  if (skip) return;
  if (spawnSync("id", [USER]).status !== 0) execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER]);
  if (!execFileSync("cat", ["/etc/subuid"], { encoding: "utf8" }).includes(`${USER}:`)) {
    execFileSync("usermod", ["--add-subuids", `${SUB}-${SUB + 65535}`, "--add-subgids", `${SUB}-${SUB + 65535}`, USER]);
  }
  caller = { uid: Number(execFileSync("id", ["-u", USER], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", USER], { encoding: "utf8" })) };
  const sub = Number(execFileSync("sh", ["-c", `grep ^${USER}: /etc/subuid | cut -d: -f2`], { encoding: "utf8" }));
  mapping = subidMapping(caller.uid, caller.gid, { uid: sub, gid: sub, count: 65536 }, { newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap" });
  base = mkdtempSync("/tmp/kb-upper-snap-");
  chmodSync(base, 0o755);
  helper = path.join(base, "kb-sandbox");
  copyFileSync(await resolveHelperPath(), helper);
  chmodSync(helper, 0o755);
});
afterAll(() => { if (base) rmSync(base, { recursive: true, force: true }); });

/** What a rootless `RUN mkdir /d && ... chown 1000 && chmod 700 /d` leaves: container 1000 is host SUB+999. */
function privateTree(name: string): string {
  const up = path.join(base, name);
  const c1000 = mapping.uids[1]!.outside + 999;
  const own = (p: string, mode: number, uid = c1000) => { chownSync(p, uid, uid === c1000 ? c1000 : caller.gid); chmodSync(p, mode); };
  mkdirSync(path.join(up, "d/sub"), { recursive: true });
  mkdirSync(path.join(up, "opq"));
  writeFileSync(path.join(up, "d/f"), "secret\n");
  spawnSync("setfattr", ["-n", "user.k", "-v", "v", path.join(up, "d/f")]);
  spawnSync("setfattr", ["-n", "user.overlay.opaque", "-v", "y", path.join(up, "opq")]);
  writeFileSync(path.join(up, "d/sub/g"), "g");
  linkSync(path.join(up, "d/f"), path.join(up, "d/h"));
  symlinkSync("f", path.join(up, "d/s"));
  lchownSync(path.join(up, "d/s"), c1000, c1000);
  writeFileSync(path.join(up, "suid"), "x");
  writeFileSync(path.join(up, "mine"), "m");
  own(up, 0o755, caller.uid);
  own(path.join(up, "d"), 0o700);
  own(path.join(up, "d/f"), 0o600);
  own(path.join(up, "d/sub"), 0o2750);
  own(path.join(up, "d/sub/g"), 0o640);
  own(path.join(up, "opq"), 0o700);
  own(path.join(up, "suid"), 0o4710);
  own(path.join(up, "mine"), 0o000, caller.uid);
  return up;
}

function modes(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const st = lstatSync(path.join(dir, rel));
    out.push(`${rel || "."} ${(st.mode & 0o7777).toString(8)} ${st.uid}`);
    if (st.isDirectory()) for (const n of execFileSync("ls", ["-A", path.join(dir, rel)], { encoding: "utf8" }).split("\n").filter(Boolean).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk("");
  return out;
}

function asUser(op: string, dir: string) {
  const r = spawnSync("setpriv", [`--reuid=${USER}`, `--regid=${USER}`, "--clear-groups", "env", `HOME=${base}`, `TMPDIR=${base}`, `KB_SANDBOX_HELPER=${helper}`,
    process.execPath, path.join(import.meta.dir, "../../test/kit/snapshot-as-user.ts"), op, dir, JSON.stringify(mapping)], { encoding: "utf8", cwd: "/" });
  if (r.status !== 0) throw new Error(`driver failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

describe.skipIf(!!skip)("rootless snapshot of private entries", () => {
  test("`unlockTree()` opens up exactly what the caller cannot read and `relockTree()` puts every mode back", () => {
    const up = privateTree("t-unlock");
    const was = modes(up);
    const r = asUser("unlock", up);
    expect(r.before.sort()).toEqual(["d", "mine", "opq", "suid"]);
    expect(r.after).toEqual([]);
    expect(r.content).toBe("secret\n");
    expect(r.saved.sort()).toEqual(["d 700", "d/f 600", "d/h 600", "d/sub 2750", "d/sub/g 640", "mine 0", "opq 700", "suid 4710"]);
    expect(modes(up)).toEqual(was);
  });

  test("`openUpperSnapshot()` yields true modes, ids, contents and xattrs, and leaves the upperdir as it was", () => {
    const up = privateTree("t-snap");
    const was = modes(up);
    const r = asUser("snapshot", up);
    expect(r.unlocked).toBe(8);
    expect(r.entries).toEqual([
      "dir d 700 1000:1000",
      'file d/f 600 1000:1000 "secret\\n" {"user.k":"v"}',
      'hardlink d/h -> d/f 600 1000:1000 {"user.k":"v"}',
      "symlink d/s -> f 777 1000:1000",
      "dir d/sub 2750 1000:1000",
      'file d/sub/g 640 1000:1000 "g"',
      'file mine 0 0:0 "m"',
      "dir opq 700 1000:1000",
      "file opq/.wh..wh..opq 0 0:0",
      'file suid 4710 1000:1000 "x"',
    ]);
    expect(modes(up)).toEqual(was);
  });

  test("`openUpperSnapshot()` of a tree the caller can read unlocks nothing", () => {
    const up = path.join(base, "t-plain");
    mkdirSync(path.join(up, "a"), { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(path.join(up, "a", `f${i}`), String(i));
    execFileSync("chown", ["-R", `${USER}:${USER}`, up]);
    const r = asUser("snapshot", up);
    expect(r.before).toEqual([]);
    expect(r.unlocked).toBe(0);
    expect(r.entries.length).toBe(201);
  });
});
