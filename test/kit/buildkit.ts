// Docker's builder (BuildKit, embedded in Debian's docker.io 20.10) as the oracle: a private dockerd started as
// root on its own data-root, exec-root, pidfile and unix socket (another suite may run its own at the same time),
// `DOCKER_BUILDKIT=1 /usr/bin/docker build --network host`, `docker push` to the test registry; and a comparator of
// two images fetched with `skopeo copy docker://… dir:…` (a dir: copy keeps the config blob as written, with
// Healthcheck, Shell and OnBuild; the tree is unpacked by umoci from a local oci: copy of that dir).

import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { listTree, must, tempDir, umociUnpack, type TreeEntry } from "./kb.ts";

/** Why BuildKit cannot serve as the oracle here, or undefined when it can. */
export function buildkitUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "dockerd (BuildKit) runs as root in this suite";
  if (!existsSync("/usr/sbin/dockerd") || !existsSync("/usr/bin/docker")) return "docker.io is not installed (apt-get install docker.io)";
  return undefined;
}

/** A running private dockerd. */
export interface Dockerd {
  dir: string;
  host: string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

/** Starts dockerd (vfs, no bridge, no iptables) in a fresh temp dir and waits until it answers. */
export async function startDockerd(): Promise<Dockerd> {
  const dir = tempDir("kb-dockerd-");
  for (const d of ["data", "exec"]) mkdirSync(join(dir, d));
  const host = `unix://${dir}/docker.sock`;
  const child = spawn("/usr/sbin/dockerd", ["--iptables=false", "--ip-masq=false", "--bridge=none", "--storage-driver=vfs",
    "--data-root", join(dir, "data"), "--exec-root", join(dir, "exec"), "--pidfile", join(dir, "pid"), "-H", host], { stdio: "ignore", detached: false });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const stop = async () => {
    const pid = existsSync(join(dir, "pid")) ? Number(readFileSync(join(dir, "pid"), "utf8")) : child.pid;
    if (pid) try { process.kill(pid, "SIGTERM"); } catch { /* already gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) try { process.kill(child.pid!, "SIGKILL"); } catch { /* gone */ }
    spawnSync("umount", ["-R", join(dir, "exec")]);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    if (spawnSync("/usr/bin/docker", ["version"], { env: { ...process.env, DOCKER_HOST: host } }).status === 0) return { dir, host, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error("dockerd did not start (see TEST-INFRA-NOTES: it needs root, docker.io and a free unix socket)");
}

export interface BuildkitOptions {
  tag: string;
  buildArgs?: Record<string, string>;
  target?: string;
  dockerfile?: string;
}

/** `docker build` (BuildKit) of `contextDir`, then `docker push` to the test registry. Throws with the output. */
export async function buildkitBuild(d: Dockerd, contextDir: string, opts: BuildkitOptions): Promise<string> {
  const env = { DOCKER_HOST: d.host, DOCKER_BUILDKIT: "1", DOCKER_CONFIG: join(d.dir, "client") };
  const args = ["build", "--network", "host", "--progress", "plain", "-t", opts.tag];
  if (opts.dockerfile) args.push("-f", opts.dockerfile);
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) args.push("--build-arg", `${k}=${v}`);
  if (opts.target) args.push("--target", opts.target);
  const b = await run("/usr/bin/docker", [...args, contextDir], env);
  if (b.code !== 0) throw new Error(`docker build failed (${b.code}):\n${b.out.slice(-4000)}`);
  const p = await run("/usr/bin/docker", ["push", opts.tag], env);
  if (p.code !== 0) throw new Error(`docker push failed (${p.code}):\n${p.out.slice(-4000)}`);
  return opts.tag;
}

/** What is compared of one image. */
export interface Snapshot {
  ref: string;
  tree: Record<string, TreeEntry>;
  config: Record<string, unknown>;
  history: string[];
  layers: number;
  /** Per layer, its tar entries as "mode uid/gid path" (only when asked for). */
  layerEntries?: string[][];
}

/** `tar -tv` of one layer blob: "mode uid/gid path" per entry, in tar order. */
function layerEntries(blob: string): string[] {
  const out = must("tar", ["--numeric-owner", "-tvf", blob]);
  return out.split("\n").filter(Boolean).map((l) => {
    const f = l.split(/\s+/);
    const path = f.slice(5).join(" ").replace(/^\.\//, "").replace(/\/$/, "");
    return `${f[0]} ${f[1]} ${path}`;
  });
}

/** Fetches `ref` with skopeo to dir:, reads config and manifest from it, and unpacks the tree with umoci (owners kept). */
export function snapshot(ref: string, withLayerEntries = false): Snapshot {
  const dir = tempDir("kb-snap-");
  try {
    must("skopeo", ["copy", "--src-tls-verify=false", `docker://${ref}`, `dir:${dir}/dir`]);
    const manifest = JSON.parse(readFileSync(join(dir, "dir", "manifest.json"), "utf8"));
    const cfgDigest = String(manifest.config.digest).replace(/^sha256:/, "");
    const cfg = JSON.parse(readFileSync(join(dir, "dir", cfgDigest), "utf8"));
    must("skopeo", ["copy", `dir:${dir}/dir`, `oci:${dir}/oci:img`]);
    umociUnpack(`${dir}/oci:img`, `${dir}/bundle`);
    const tree = listTree(join(dir, "bundle", "rootfs"));
    for (const [p, e] of Object.entries(tree)) if (e.type === "file") (e as TreeEntry & { nlink?: number }).nlink = lstatSync(join(dir, "bundle", "rootfs", p)).nlink;
    const history = ((cfg.history ?? []) as { created_by?: string; empty_layer?: boolean }[]).map((h) => `${h.created_by ?? ""}${h.empty_layer ? " (empty)" : ""}`);
    const layers = (manifest.layers ?? []) as { digest: string }[];
    const entries = withLayerEntries ? layers.map((l) => layerEntries(join(dir, "dir", l.digest.replace(/^sha256:/, "")))) : undefined;
    return { ref, tree, config: cfg.config ?? {}, history, layers: layers.length, ...(entries ? { layerEntries: entries } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Config fields compared (Docker's names); Env is compared as a set. */
export const COMPARED = ["Env", "User", "WorkingDir", "Entrypoint", "Cmd", "ArgsEscaped", "Labels", "ExposedPorts", "Volumes", "Healthcheck", "Shell", "OnBuild", "StopSignal"] as const;

const stable = (v: unknown): string =>
  v === undefined ? "(unset)" : JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));

function norm(c: Record<string, unknown>, k: (typeof COMPARED)[number]): unknown {
  let v = c[k];
  if (k === "Env" && Array.isArray(v)) v = [...v].sort();
  if ((Array.isArray(v) && v.length === 0) || v === null || v === "") v = undefined;
  if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) v = undefined;
  return v;
}

/**
 * Differences between image `a` (kb) and `b` (BuildKit) as readable lines; empty when they are the same image up
 * to timestamps. `ignorePaths` skips tree paths (each must be justified in docs/differences-from-docker.md).
 */
export function compareWithBuildkit(a: Snapshot, b: Snapshot, ignorePaths: string[] = []): string[] {
  const diffs: string[] = [];
  const ignored = (p: string) => ignorePaths.some((i) => p === i || p.startsWith(`${i}/`));
  for (const p of [...new Set([...Object.keys(a.tree), ...Object.keys(b.tree)])].sort()) {
    if (ignored(p)) continue;
    const x = a.tree[p] as (TreeEntry & { nlink?: number }) | undefined;
    const y = b.tree[p] as (TreeEntry & { nlink?: number }) | undefined;
    if (!x || !y) {
      diffs.push(`tree ${p}: ${x ? "only in kb" : "only in buildkit"} (${stable(x ?? y)})`);
      continue;
    }
    for (const k of ["type", "mode", "uid", "gid", "size", "sha256", "link", "nlink"] as const)
      if (stable(x[k]) !== stable(y[k])) diffs.push(`tree ${p}: ${k} ${stable(x[k])} != ${stable(y[k])}`);
  }
  for (const k of COMPARED) if (stable(norm(a.config, k)) !== stable(norm(b.config, k))) diffs.push(`config ${k}: ${stable(norm(a.config, k))} != ${stable(norm(b.config, k))}`);
  if (stable(a.history) !== stable(b.history)) diffs.push(`history: ${stable(a.history)} != ${stable(b.history)}`);
  if (a.layers !== b.layers) diffs.push(`layers: ${a.layers} != ${b.layers}`);
  if (a.layerEntries && b.layerEntries) {
    a.layerEntries.forEach((la, i) => {
      const lb = b.layerEntries![i] ?? [];
      const x = [...la].sort();
      const y = [...lb].sort();
      if (stable(x) !== stable(y)) diffs.push(`layer ${i} entries: ${stable(x)} != ${stable(y)}`);
    });
  }
  return diffs;
}
