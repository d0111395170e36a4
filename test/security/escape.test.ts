// Escape attempts from inside a RUN, in root mode (kb as root), rootless with one id (nobody) and rootless with
// a subuid range (kbtest): each must end confined or refused. Prints a table of attempts × modes.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { makeBusyboxRootfs, sandboxSkipReason } from "../kit/sandbox.ts";
import { tmpdir } from "node:os";
import { resolveHelperPath } from "../../src/helper/helper-path.ts";
import { createSandbox } from "../../src/exec/sandbox.ts";
import { shellSpec } from "../kit/sandbox.ts";
import { ensureCompiledKb, makeThrowawayRoot } from "../kit/throwaway-root.ts";
import { ensureSubidUser, rootlessSkipReason } from "../kit/users.ts";

const cc = ["musl-gcc", "gcc"].find((c) => spawnSync(c, ["--version"]).status === 0);
const skip = sandboxSkipReason() ?? rootlessSkipReason() ?? (!cc ? "no C compiler (apt-get install musl-tools)" : undefined);
if (skip) console.log(`escape.test.ts: skipped: ${skip}`);

let base = "";
let rootfs = "";
let helper = "";
let server: Server;
let port = 0;
const table = new Map<string, Map<string, string>>();
const columns: string[] = [];

beforeAll(async () => {
  if (skip) return;
  ensureSubidUser();
  base = mkdtempSync("/tmp/kb-escape-");
  chmodSync(base, 0o777); // the drivers of every user keep their scratch dirs here
  rootfs = makeBusyboxRootfs(path.join(base, "rootfs"));
  execFileSync(cc!, ["-static", "-O2", "-o", path.join(rootfs, "probe"), path.join(import.meta.dir, "_probe.c")]);
  chmodSync(path.join(rootfs, "probe"), 0o755);
  helper = path.join(base, "kb-sandbox");
  copyFileSync(await resolveHelperPath(), helper);
  chmodSync(helper, 0o755);
  server = createServer((s) => s.end("host service\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
}, 120_000);

afterAll(() => {
  server?.close();
  if (base) rmSync(base, { recursive: true, force: true });
  if (columns.length === 0) return;
  const w = Math.max(...[...table.keys()].map((k) => k.length));
  const cw = (c: string) => Math.max(12, c.length + 2);
  const lines = [`${"attempt".padEnd(w)}  ${columns.map((c) => c.padEnd(cw(c))).join("")}`];
  for (const [attempt, row] of table) lines.push(`${attempt.padEnd(w)}  ${columns.map((c) => (row.get(c) ?? "-").padEnd(cw(c))).join("")}`);
  console.log(`\nescape attempts × modes\n${lines.join("\n")}\n`);
});

type Row = { attempt: string; result: string; detail: string };

/** Runs the probe in a sandbox as `user` (root: directly) and records its rows under `column`. */
function probeAs(user: string, group: string, network: string, column: string, isolation = "auto"): { mode: string; rows: Row[] } {
  const driver = path.join(import.meta.dir, "_escape-driver.ts");
  const argv = [process.execPath, driver, rootfs, String(process.pid), String(port), network, isolation];
  const r = user === "root"
    ? spawnSync("env", [`TMPDIR=${base}`, `KB_SANDBOX_HELPER=${helper}`, ...argv], { encoding: "utf8", cwd: "/" })
    : spawnSync("setpriv", [`--reuid=${user}`, `--regid=${group}`, "--clear-groups", "env", `HOME=${base}`, `TMPDIR=${base}`,
      `KB_SANDBOX_HELPER=${helper}`, ...argv], { encoding: "utf8", cwd: "/" });
  if (r.status !== 0) throw new Error(`driver as ${user} failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { mode: string; exitCode: number; err: string; rows: Row[] };
  expect(out.err).toBe("");
  columns.push(column);
  for (const row of out.rows) {
    if (!table.has(row.attempt)) table.set(row.attempt, new Map());
    table.get(row.attempt)!.set(column, row.result === "confined" ? "confined" : "ESCAPED");
  }
  return out;
}

function expectConfined(rows: Row[], min: number): void {
  expect(rows.length).toBeGreaterThanOrEqual(min);
  expect(rows.filter((r) => r.result !== "confined").map((r) => `${r.attempt}: ${r.detail}`)).toEqual([]);
}

const hostSysctl = () => readFileSync("/proc/sys/fs/lease-break-time", "utf8");

describe.skipIf(!!skip)("RUN escape attempts", () => {
  test("root mode (kb as root): every attempt is confined and host sysctls are unchanged", () => {
    const before = hostSysctl();
    const r = probeAs("root", "root", "sandbox", "root");
    expect(r.mode).toBe("root");
    expectConfined(r.rows, 20);
    expect(hostSysctl()).toBe(before);
  });

  test("rootless, one id (nobody): every attempt is confined", () => {
    const r = probeAs("nobody", "nogroup", "sandbox", "rootless 1 id");
    expect(r.mode).toBe("rootless");
    expectConfined(r.rows, 20);
  });

  test("rootless chosen by root (--isolation rootless): every attempt is confined", () => {
    const r = probeAs("root", "root", "sandbox", "rootless as root", "rootless");
    expect(r.mode).toBe("rootless");
    expectConfined(r.rows, 20);
  });

  test("rootless, subuid range (kbtest): every attempt is confined", () => {
    const r = probeAs("kbtest", "kbtest", "sandbox", "rootless subuids");
    expect(r.mode).toBe("rootless");
    expectConfined(r.rows, 20);
  });

  test("network: the host's 127.0.0.1 is out of reach with none and sandbox, and reachable only with --network host", () => {
    // Rootless with the host network is the path where /sys cannot be a fresh sysfs (not our network namespace).
    for (const [user, group, net] of [["root", "root", "none"], ["root", "root", "host"], ["nobody", "nogroup", "host"]] as const) {
      const r = probeAs(user, group, net, `${user === "root" ? "root" : "rootless 1 id"}, network ${net}`);
      const row = r.rows.find((x) => x.attempt === "reach host 127.0.0.1")!;
      expect(row.result).toBe(net === "host" ? "ESCAPED" : "confined");
      expectConfined(r.rows.filter((x) => x.attempt !== "reach host 127.0.0.1"), 20);
    }
  });

  test("container mode: kb adds nothing and takes nothing away; RUN has the pod's confinement (here a pod made by kb-sandbox)", async () => {
    // The pod: the compiled kb in a throwaway root, started by the sandbox helper as a runtime would start it.
    const kbBinary = ensureCompiledKb();
    const pod = makeThrowawayRoot(kbBinary, {
      "/workspace/Dockerfile": { text: `FROM scratch\nCOPY probe /probe\nRUN ["/probe", "${process.pid}", "${port}"]\n` },
      "/workspace/probe": path.join(rootfs, "probe"),
    });
    try {
      chmodSync(path.join(pod, "workspace/probe"), 0o755);
      const sb = createSandbox({ isolation: "root", helperPath: helper });
      const spec = shellSpec([pod], "", mkdtempSync(path.join(tmpdir(), "kb-pod-")), {
        args: ["/kb", "build", "--isolation", "container", "--force", "--cache-dir", "/kb-cache", "--progress", "plain", "--no-push",
          "--output", "type=oci,dest=/out", "/workspace"],
        env: ["HOME=/root", "PATH=/"], network: "none",
      });
      const r = await sb.run(spec);
      const text = spec.out() + spec.err();
      expect(text).toContain("RUN isolation: container");
      expect(r.exitCode).toBe(0);
      const rows = text.split("\n").map((l) => /([^\t]*?[a-z][^\t]*)\t(confined|ESCAPED)\t(.*)$/.exec(l)).filter((m) => m !== null)
        .map((m) => ({ attempt: m![1]!.replace(/^.*?\] /, "").replace(/^#\d+ [\d.]+ /, "").trim(), result: m![2]!, detail: m![3]! }));
      columns.push("container (pod)");
      for (const row of rows) {
        const key = [...table.keys()].find((k) => row.attempt.endsWith(k)) ?? row.attempt;
        if (!table.has(key)) table.set(key, new Map());
        table.get(key)!.set("container (pod)", row.result === "confined" ? "confined" : "ESCAPED");
      }
      expectConfined(rows, 20);
    } finally {
      rmSync(pod, { recursive: true, force: true });
    }
  }, 300_000);
});
