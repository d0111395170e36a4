// Container-mode tests: a command run in place over a temp "root", snapshot by the stat walk.

import { afterAll, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { containerSkipPaths, createContainerRun, parseMountPoints, runInContainer } from "./container-mode.ts";

const base = mkdtempSync(path.join(tmpdir(), "kb-cmode-"));
const isRoot = process.getuid?.() === 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

const spec = (script: string) => ({ args: ["/bin/sh", "-c", script], env: ["PATH=/usr/bin:/bin"], cwd: base, user: { uid: process.getuid!(), gid: process.getgid!(), groups: [] } });

test("`parseMountPoints()` decodes the kernel's octal escapes", () => {
  const info = "36 35 98:0 / /mnt/with\\040space rw - ext4 /dev/x rw\n37 35 0:1 / /proc rw - proc proc rw\ngarbage\n";
  expect(parseMountPoints(info)).toEqual(["/mnt/with space", "/proc"]);
});

test("`containerSkipPaths()` skips /proc, /sys, /dev, mount points and kb's folder, relative to root", () => {
  const info = "1 0 0:1 / / rw - overlay o rw\n2 1 0:2 / /etc/hosts rw - ext4 x rw\n3 1 0:3 / /proc rw - proc p rw\n";
  expect(containerSkipPaths("/", ["/kb"], info)).toEqual(["dev", "etc/hosts", "kb", "proc", "sys"]);
});

test("`createContainerRun()` runs in place and its diff holds exactly what the command changed", async () => {
  const root = path.join(base, "root");
  mkdirSync(path.join(root, "etc"), { recursive: true });
  writeFileSync(path.join(root, "etc/old"), "o");
  writeFileSync(path.join(root, "etc/gone"), "g");
  mkdirSync(path.join(root, "kb"));
  if (isRoot) {
    mkdirSync(path.join(root, "mnt"));
    execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(root, "mnt")]);
  }
  try {
    const c = await createContainerRun({ root, skip: [path.join(root, "kb")] });
    const r = await c.run(spec(`echo n > ${root}/etc/new && rm ${root}/etc/gone && echo k > ${root}/kb/own && ${isRoot ? `echo m > ${root}/mnt/m && ` : ""}echo done`));
    expect(r).toEqual({ exitCode: 0 });
    const out: string[] = [];
    for await (const { entry, body } of c.diff()) { await body?.cancel(); out.push(`${entry.type} ${entry.path}`); }
    expect(out).toEqual(["dir etc", "file etc/.wh.gone", "file etc/new"]);
  } finally {
    if (isRoot) execFileSync("umount", [path.join(root, "mnt")]);
  }
});

test("`runInContainer()` returns exit codes, 127 for a missing command, and kills on timeout", async () => {
  expect(await runInContainer(spec("exit 4"))).toEqual({ exitCode: 4 });
  expect(await runInContainer({ ...spec(""), args: ["/no/such/tool"] })).toEqual({ exitCode: 127 });
  expect(await runInContainer(spec("sleep 1000"), { timeoutMs: 200 })).toEqual({ exitCode: 137, signal: "SIGKILL", timedOut: true });
});
