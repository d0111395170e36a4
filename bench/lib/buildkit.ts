// Docker's builder (BuildKit embedded in Debian's docker.io 20.10) as a bench peer. The bench starts its own dockerd
// (own data-root, exec-root, socket and pid file under the bench's work dir; vfs storage, no iptables or bridge,
// as in /work/shared/design/TEST-INFRA-NOTES.md) and stops it by its pid — never another dockerd on the machine.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { measure, type Cost } from "./measure.ts";
import { mountsUnder, toTrash, type Tool } from "./tools.ts";

/** Why BuildKit cannot run here, or undefined when it can. */
export function buildkitUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "dockerd needs root";
  for (const p of ["/usr/sbin/dockerd", "/usr/bin/docker"]) if (!existsSync(p)) return `${p} is missing (apt-get install docker.io)`;
  return undefined;
}

/** utime+stime (+ waited children) of a process, seconds. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Peak resident set of a process so far (VmHWM), MB. */
function peakRssMB(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface Dockerd { host: string; pid: number; stop(): Promise<void> }

/** Starts dockerd under `dir` and waits (up to 60 s) until it answers. */
export async function startDockerd(dir: string): Promise<Dockerd> {
  for (const d of ["data", "exec"]) mkdirSync(path.join(dir, d), { recursive: true });
  const sock = path.join(dir, "docker.sock");
  const host = `unix://${sock}`;
  const log = openSync(path.join(dir, "dockerd.log"), "a");
  const child = spawn("/usr/sbin/dockerd", [
    "--iptables=false", "--ip-masq=false", "--bridge=none", "--storage-driver=vfs",
    "--data-root", path.join(dir, "data"), "--exec-root", path.join(dir, "exec"), "--pidfile", path.join(dir, "pid"), "-H", host,
  ], { stdio: ["ignore", log, log], detached: false });
  const exited = new Promise<number>((r) => child.on("exit", (c) => r(c ?? -1)));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(t);
  };
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}); see ${path.join(dir, "dockerd.log")}`);
    if (spawnSync("/usr/bin/docker", ["-H", host, "info"], { stdio: "ignore" }).status === 0) return { host, pid: child.pid!, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`dockerd did not answer within 60 s; see ${path.join(dir, "dockerd.log")}`);
}

/**
 * BuildKit through `DOCKER_BUILDKIT=1 docker build --network host`, then `docker push`. CPU is the client's plus
 * the daemon's (and its waited children's) growth over the phase; RSS is the daemon's peak so far (VmHWM), since
 * the work happens in the daemon, not in the client. A reset stops dockerd, moves its data to the bench's trash
 * (deleted at the end, as kb's and buildah's stores are: see toTrash) and starts a fresh one under `dir`.
 */
export async function buildkitTool(dir: string, work: string): Promise<Tool & { stop(): Promise<void> }> {
  let d = await startDockerd(dir);
  const env = () => ({ DOCKER_HOST: d.host, DOCKER_BUILDKIT: "1" });
  const docker = (args: string[]) => spawnSync("/usr/bin/docker", args, { env: { ...process.env, ...env() }, encoding: "utf8" });
  const version = docker(["version", "--format", "{{.Server.Version}}"]).stdout.trim();
  const run = async (args: string[], what: string): Promise<Cost> => {
    const c0 = cpuOf(d.pid);
    const m = await measure("/usr/bin/docker", args, { env: env() });
    if (m.code !== 0) throw new Error(`docker ${what} failed:\n${m.output.slice(-4000)}`);
    return { wallS: m.wallS, cpuS: m.cpuS + (cpuOf(d.pid) - c0), rssMB: Math.max(m.rssMB, peakRssMB(d.pid)) };
  };
  return {
    name: "buildkit",
    describe: `docker.io ${version} BuildKit, vfs`,
    async reset() {
      await d.stop();
      for (const m of mountsUnder(dir)) spawnSync("umount", ["-l", m]);
      toTrash(work, dir);
      d = await startDockerd(dir);
    },
    async build(ctx, ref) {
      const b = await run(["build", "--network", "host", "-q", "-t", ref, ctx], `build of ${ctx}`);
      const p = await run(["push", "-q", ref], `push of ${ref}`);
      return { cost: { wallS: b.wallS + p.wallS, cpuS: b.cpuS + p.cpuS, rssMB: Math.max(b.rssMB, p.rssMB) }, pushS: p.wallS };
    },
    stop: () => d.stop(),
  };
}
