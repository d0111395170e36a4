// Escape attempts on the host side of kb, as root (root mode): a setuid file from a layer run by another user from
// the store, a planted tree in a store another user owns, Dockerfile/.dockerignore links out of the context, and
// what a SIGKILLed build leaves. Each must end refused or cleaned; prints a table.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kb, makeContext, tempDir, unpackLayout } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { rootlessSkipReason } from "../kit/users.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`host-side.test.ts: skipped: ${skip}`);
const rows: [string, string, string][] = [];
const reg = useRegistryWithBusybox({ skip });

beforeAll(async () => {
  if (skip) return;
}, 120_000);
afterAll(() => {
  if (rows.length) {
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\nhost-side attempts (kb as root)\n${rows.map(([a, r, d]) => `${a.padEnd(w)}  ${r.padEnd(9)} ${d}`).join("\n")}\n`);
  }
});

// Through sh: setpriv itself execs while it still holds root's capabilities (they drop at that exec), so its own
// path walk would pass a 0700 folder that the user cannot cross.
const asNobody = (cmd: string[]) =>
  spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/bin/sh", "-c", 'exec "$@"', "sh", ...cmd], { encoding: "utf8" });

describe.skipIf(!!skip)("host-side escape attempts", () => {
  test("RUN --mount=type=bind from a stage whose source is a symlink to /etc binds the stage's /etc, never the host's", async () => {
    const ctx = makeContext({ Dockerfile: [
      `FROM ${reg.base} AS s`, "RUN echo stage > /etc/kb-marker && ln -s /etc /leak && ln -s ../../../../etc /up",
      `FROM ${reg.base}`,
      "RUN --mount=type=bind,from=s,source=leak,target=/x --mount=type=bind,from=s,source=up,target=/y,rw \\",
      "    cat /x/kb-marker /y/kb-marker > /seen; grep -c '^root:' /x/shadow /y/shadow >> /seen 2>&1; true", ""].join("\n") });
    const out = join(tempDir(), "oci");
    const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", "--no-push", "--output", `type=oci,dest=${out}`, ctx]);
    expect(r.code).toBe(0);
    const seen = readFileSync(join(unpackLayout(out, "latest"), "seen"), "utf8");
    // busybox's /etc has no shadow: a count of root lines can only come from the host's /etc/shadow.
    expect(seen).toStartWith("stage\nstage\n");
    expect(seen).not.toMatch(/shadow:1/);
    rows.push(["bind mount source through a symlink out of the stage", "confined", "the stage's /etc was bound"]);
  }, 120_000);

  test("RUN --mount targets through a symlink to a host folder land inside the image, never on the host", async () => {
    // The host folder exists and has both mount points. kb before this test placed mounts through the host's view:
    // the tmpfs and the bind went over the host's folders (in the sandbox's private mount namespace) and the RUN
    // found nothing at /x/t. runc resolves a target inside the root (securejoin), so must kb.
    const host = tempDir("kb-host-target-");
    mkdirSync(join(host, "t"));
    mkdirSync(join(host, "b"));
    writeFileSync(join(host, "t/host-marker"), "host\n");
    const ctx = makeContext({
      "a.txt": "from context\n",
      Dockerfile: [
        `FROM ${reg.base}`, `RUN ln -s ${host} /x && ln -s ../..${host} /rel`,
        "RUN --mount=type=tmpfs,target=/x/t --mount=type=bind,target=/rel/b,rw \\",
        `    sh -c 'ls -A /x/t > /seen-tmpfs; cat ${host}/b/a.txt > /seen-bind; echo w > /x/t/w; echo w > /rel/b/w'`, ""].join("\n"),
    });
    const out = join(tempDir(), "oci");
    const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", "--no-push", "--output", `type=oci,dest=${out}`, ctx]);
    expect(r.code).toBe(0);
    const root = unpackLayout(out, "latest");
    expect(readFileSync(join(root, "seen-tmpfs"), "utf8")).toBe(""); // a fresh tmpfs, not the host's folder
    expect(readFileSync(join(root, "seen-bind"), "utf8")).toBe("from context\n");
    expect(readdirSync(join(host, "t"))).toEqual(["host-marker"]);
    expect(readdirSync(join(host, "b"))).toEqual([]);
    // The mount points stay in the layer where runc makes them: the image's own copy of the host path.
    expect(statSync(join(root, host.slice(1), "t")).isDirectory()).toBe(true);
    expect(existsSync(join(root, host.slice(1), "t/w"))).toBe(false);
    rows.push(["RUN --mount target through a symlink to a host folder", "confined", "mounted at the image's own path"]);
  }, 120_000);

  test("a setuid-root file and a device node from RUN cannot be used by another user through the store", async () => {
    const shared = tempDir("kb-shared-");
    chmodSync(shared, 0o755); // a shared place such as /srv/cache: kb creates the store in it
    const store = join(shared, "cache");
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN mkdir /s && cp /bin/busybox /s/id && chmod 4755 /s/id && mknod /blk b 7 0 && chmod 666 /blk\nRUN true\n` });
    const r = await kb(["build", "--cache-dir", store, "--progress", "plain", "--no-push", "--output", `type=oci,dest=${join(tempDir(), "oci")}`, ctx]);
    expect(r.code).toBe(0);
    expect(statSync(store).mode & 0o777).toBe(0o700);
    const found = spawnSync("find", [store, "-path", "*/s/id", "-perm", "-4000"], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
    expect(found.length).toBeGreaterThan(0); // the tree holds it, as it must for the next RUN
    const run = asNobody([found[0]!, "-u"]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("Permission denied");
    const blk = spawnSync("find", [store, "-name", "blk", "-type", "b"], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
    const open = blk.length ? asNobody(["dd", `if=${blk[0]}`, "of=/dev/null", "count=1"]) : { status: 1, stderr: "no device kept" };
    expect(open.status).not.toBe(0);
    expect(open.stderr).toContain("Permission denied");
    rows.push(["setuid file from a layer run by nobody", "refused", run.stderr.trim().split("\n")[0] ?? ""]);
    rows.push(["device node from RUN opened by nobody", "refused", (open.stderr ?? "").trim().split("\n")[0] ?? ""]);
  }, 120_000);

  test("a store owned by another user, with a planted base tree, is refused before anything runs", async () => {
    const store = tempDir("kb-cache-");
    const planted = join(store, "trees", "layer-root-planted", "root");
    mkdirSync(planted, { recursive: true });
    writeFileSync(join(planted, "PLANTED"), "x");
    writeFileSync(join(store, "trees", "layer-root-planted", ".kb-complete"), "");
    spawnSync("chown", ["-R", "nobody:nogroup", store]);
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN test ! -e /PLANTED\n` });
    const r = await kb(["build", "--cache-dir", store, "--progress", "plain", "--no-push", "--output", `type=oci,dest=${join(tempDir(), "oci")}`, ctx]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`is owned by uid 65534, not by you (uid 0)`);
    expect(r.err).toContain("hint:");
    // Only a top folder foreign: refused too.
    chownSync(store, 0, 0);
    const r2 = await kb(["build", "--cache-dir", store, "--progress", "plain", "--no-push", "--output", `type=oci,dest=${join(tempDir(), "oci")}`, ctx]);
    expect(r2.code).not.toBe(0);
    expect(r2.err).toContain(`${join(store, "trees")} is owned by uid 65534`);
    rows.push(["planted tree in a foreign-owned store", "refused", r.err.split("\n")[0]!]);
  }, 60_000);

  test("a Dockerfile or .dockerignore linking outside the context is refused without echoing its content", async () => {
    const secretDir = tempDir();
    writeFileSync(join(secretDir, "shadow"), "root:$6$planted-hash:19000:0:99999:7:::\n");
    const cases: [string, Parameters<typeof makeContext>[0]][] = [
      ["Dockerfile", { Dockerfile: { symlink: join(secretDir, "shadow") } }],
      [".dockerignore", { Dockerfile: `FROM ${reg.base}\n`, ".dockerignore": { symlink: join(secretDir, "shadow") } }],
    ];
    for (const [which, files] of cases) {
      const ctx = makeContext(files);
      const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", "--no-push", "--output", `type=oci,dest=${join(tempDir(), "oci")}`, ctx]);
      expect(r.code).not.toBe(0);
      expect(r.err).toContain("is a symbolic link that leads outside the context");
      expect(r.err).not.toContain("planted-hash");
      rows.push([`${which} -> file outside the context`, "refused", r.err.split("\n")[0]!]);
    }
  }, 60_000);

  test("SIGKILL during a RUN with a secret: the next build sweeps the staged secret and scratch dirs", async () => {
    const store = tempDir("kb-cache-");
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "sigkill-secret");
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN --mount=type=secret,id=tok sleep 60\n` });
    const child = spawn(process.execPath, [join(import.meta.dir, "../../src/main.ts"), "build", "--cache-dir", store, "--progress", "plain",
      "--secret", `id=tok,src=${join(dir, "token")}`, "--no-push", "--output", `type=oci,dest=${join(dir, "oci")}`, ctx], { stdio: "ignore" });
    const tmp = join(store, "tmp");
    // Wait (by polling the store, not the clock) until the RUN has staged its secret.
    while (!(existsSync(tmp) && readdirSync(tmp).some((n) => n.startsWith(`${child.pid}-secret-`)))) await Bun.sleep(50);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    const left = readdirSync(tmp).filter((n) => n.startsWith(`${child.pid}-`));
    expect(left.some((n) => n.includes("secret"))).toBe(true);
    const r = await kb(["build", "--cache-dir", store, "--progress", "plain", "--no-push", "--output", `type=oci,dest=${join(dir, "oci2")}`, makeContext({ Dockerfile: `FROM ${reg.base}\n` })]);
    expect(r.code).toBe(0);
    expect(readdirSync(tmp).filter((n) => n.startsWith(`${child.pid}-`))).toEqual([]);
    expect(spawnSync("grep", ["-rl", "sigkill-secret", store], { encoding: "utf8" }).stdout).toBe("");
    rows.push(["SIGKILL then the next build", "swept", `${left.length} entries of pid ${child.pid} removed`]);
  }, 120_000);
});
