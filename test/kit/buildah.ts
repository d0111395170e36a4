// buildah as an oracle for the differential suite: build the same Dockerfile with `buildah bud` (vfs, chroot
// isolation, Docker config format so Healthcheck and Shell survive), push it to the test registry, and compare
// two images' file trees and configs, skipping only the differences docs/differences-from-docker.md allows.

import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { listTree, skopeoConfig, unpackFromRegistry, type TreeEntry } from "./kb.ts";

/** Why buildah cannot serve as the oracle here, or undefined when it can. */
export function buildahUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "buildah (vfs, chroot isolation) runs as root in this suite";
  if (spawnSync("sh", ["-c", "command -v buildah"]).status !== 0) return "buildah is not installed (apt-get install buildah)";
  return undefined;
}

export interface BuildahOptions {
  /** Dockerfile path (default CONTEXT/Dockerfile). */
  dockerfile?: string;
  /** Where the image is pushed: "127.0.0.1:PORT/repo:tag". */
  tag: string;
  buildArgs?: Record<string, string>;
  target?: string;
}

/** One buildah storage (root, runroot) and registries.conf, shared by the builds of a suite so bases are pulled once. */
export interface BuildahEnv { root: string; runroot: string; registriesConf: string; dir: string }

let shared: BuildahEnv | undefined;

/** The suite's buildah storage under os.tmpdir(), made on first use; `registryHost` is marked insecure. */
export function buildahEnv(registryHost: string): BuildahEnv {
  if (shared && shared.registriesConf.endsWith(`${registryHost.replace(/[^0-9a-z]/gi, "_")}.conf`)) return shared;
  const dir = path.join(tmpdir(), `kb-buildah-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const registriesConf = path.join(dir, `registries-${registryHost.replace(/[^0-9a-z]/gi, "_")}.conf`);
  writeFileSync(registriesConf, `unqualified-search-registries = []\n\n[[registry]]\nlocation = "${registryHost}"\ninsecure = true\n`);
  shared = { root: path.join(dir, "root"), runroot: path.join(dir, "runroot"), registriesConf, dir };
  return shared;
}

/** Removes the suite's buildah storage (vfs layers are whole copies: this frees the disk). */
export function removeBuildahEnv(): void {
  if (!shared) return;
  spawnSync("buildah", ["--root", shared.root, "--runroot", shared.runroot, "--storage-driver", "vfs", "rm", "--all"]);
  spawnSync("umount", ["-R", shared.runroot]);
  rmSync(shared.dir, { recursive: true, force: true });
  shared = undefined;
}

function runAsync(cmd: string, args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

/**
 * `buildah bud` of `contextDir`, then `buildah push` to the test registry as `opts.tag` (plain http).
 * Throws with buildah's output when either fails.
 */
export async function buildahBuild(contextDir: string, opts: BuildahOptions): Promise<string> {
  const host = opts.tag.split("/")[0]!;
  const env = buildahEnv(host);
  const base = ["--root", env.root, "--runroot", env.runroot, "--storage-driver", "vfs"];
  const vars = { CONTAINERS_REGISTRIES_CONF: env.registriesConf, BUILDAH_ISOLATION: "chroot", TMPDIR: env.dir };
  const args = [...base, "bud", "--isolation", "chroot", "--layers", "--format", "docker", "--pull", "--tls-verify=false", "-t", opts.tag];
  if (opts.dockerfile) args.push("-f", opts.dockerfile);
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) args.push("--build-arg", `${k}=${v}`);
  if (opts.target) args.push("--target", opts.target);
  const b = await runAsync("buildah", [...args, contextDir], vars);
  if (b.code !== 0) throw new Error(`buildah bud failed (${b.code}):\n${b.out.slice(-4000)}`);
  const p = await runAsync("buildah", [...base, "push", "--tls-verify=false", opts.tag, `docker://${opts.tag}`], vars);
  if (p.code !== 0) throw new Error(`buildah push failed (${p.code}):\n${p.out.slice(-4000)}`);
  return opts.tag;
}

/** What is compared of one image: its unpacked tree (with hard-link counts) and its runtime config. */
export interface ImageSnapshot {
  ref: string;
  tree: Record<string, TreeEntry & { nlink?: number }>;
  config: Record<string, unknown>;
}

/** The config fields compared (Docker's names). */
export const COMPARED_CONFIG = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "StopSignal", "Healthcheck", "Shell"] as const;

/** Unpacks `ref` (skopeo + umoci, as root: owners kept) and reads its config. */
export function snapshotImage(ref: string): ImageSnapshot {
  const rootfs = unpackFromRegistry(ref);
  const tree: ImageSnapshot["tree"] = listTree(rootfs);
  for (const [p, e] of Object.entries(tree)) if (e.type === "file") e.nlink = lstatSync(path.join(rootfs, p)).nlink;
  const config = (skopeoConfig(ref).config ?? {}) as Record<string, unknown>;
  rmSync(path.dirname(path.dirname(rootfs)), { recursive: true, force: true });
  return { ref, tree, config };
}

/**
 * Files buildah's chroot isolation leaves after a RUN as empty stubs (bind-mount targets); Docker and kb leave
 * none. Allowed only when buildah's entry is an empty file or directory and kb has no entry there.
 */
export const BUILDAH_RUN_STUBS = ["etc/hosts", "etc/hostname", "etc/resolv.conf", "run"];

/** Labels buildah adds on its own. */
export const BUILDAH_LABELS = ["io.buildah.version"];

export interface CompareOptions {
  /** Extra tree paths to skip (each must be justified in docs/differences-from-docker.md). */
  ignorePaths?: string[];
}

const isEmptyStub = (tree: ImageSnapshot["tree"], p: string) => {
  const e = tree[p];
  if (!e) return false;
  if (e.type === "file") return e.size === 0;
  return e.type === "dir" && !Object.keys(tree).some((q) => q.startsWith(`${p}/`));
};

/** "8000-8002/tcp" → 8000/tcp, 8001/tcp, 8002/tcp, as Docker stores EXPOSE ranges (buildah keeps the range key). */
function expandPortRanges(ports: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ports)) {
    const m = /^(\d+)-(\d+)\/(\w+)$/.exec(key);
    if (!m) out[key] = {};
    else for (let p = Number(m[1]); p <= Number(m[2]); p++) out[`${p}/${m[3]}`] = {};
  }
  return out;
}

function normalizeConfig(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of COMPARED_CONFIG) {
    let v = c[k];
    if (k === "Labels" && v && typeof v === "object") {
      const l = Object.fromEntries(Object.entries(v).filter(([n]) => !BUILDAH_LABELS.includes(n)));
      v = Object.keys(l).length ? l : undefined;
    }
    if (k === "WorkingDir" && v === "") v = undefined;
    if (k === "ExposedPorts" && v && typeof v === "object") v = expandPortRanges(v as Record<string, unknown>);
    if ((k === "ExposedPorts" || k === "Volumes") && v && typeof v === "object" && Object.keys(v).length === 0) v = undefined;
    if ((Array.isArray(v) && v.length === 0) || v === null || (k === "User" && v === "")) v = undefined;
    out[k] = v;
  }
  return out;
}

const stable = (v: unknown): string =>
  v === undefined ? "(unset)" : JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));

/**
 * Differences between image `a` (kb) and image `b` (buildah) as readable lines ("tree etc/x: mode 0644 != 0755",
 * "config Cmd: [...] != [...]"); empty when they match up to the allowed differences.
 */
export function compareImages(a: ImageSnapshot | string, b: ImageSnapshot | string, opts: CompareOptions = {}): string[] {
  const A = typeof a === "string" ? snapshotImage(a) : a;
  const B = typeof b === "string" ? snapshotImage(b) : b;
  const diffs: string[] = [];
  const ignored = (p: string) => (opts.ignorePaths ?? []).some((i) => p === i || p.startsWith(`${i}/`));
  const paths = [...new Set([...Object.keys(A.tree), ...Object.keys(B.tree)])].sort();
  for (const p of paths) {
    if (ignored(p)) continue;
    const x = A.tree[p];
    const y = B.tree[p];
    if (!x && y && BUILDAH_RUN_STUBS.includes(p) && isEmptyStub(B.tree, p)) continue;
    if (!x || !y) {
      diffs.push(`tree ${p}: ${x ? "only in kb" : "only in buildah"} (${stable(x ?? y)})`);
      continue;
    }
    for (const k of ["type", "mode", "uid", "gid", "size", "sha256", "link", "nlink"] as const)
      if (stable(x[k]) !== stable(y[k])) diffs.push(`tree ${p}: ${k} ${stable(x[k])} != ${stable(y[k])}`);
  }
  const ca = normalizeConfig(A.config);
  const cb = normalizeConfig(B.config);
  for (const k of COMPARED_CONFIG) if (stable(ca[k]) !== stable(cb[k])) diffs.push(`config ${k}: ${stable(ca[k])} != ${stable(cb[k])}`);
  return diffs;
}
