// Running kb in tests: in-process through main() with captured output, or as a subprocess; and reading
// results with tools kb did not write (skopeo, umoci).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { main } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";

export interface KbRun { code: number; out: string; err: string }

/** Runs `kb ARGS` in-process (the CLI as a user calls it) and captures stdout and stderr. */
export async function kb(args: string[], env: Record<string, string | undefined> = {}): Promise<KbRun> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: { ...process.env, ...env }, isTTY: false, cwd: process.cwd() };
  const code = await main(args, io);
  return { code, out, err };
}

/** A temp directory holding `files` (path → content; a trailing "/" makes a directory). */
export function makeContext(files: Record<string, string | { mode?: number; content?: string; symlink?: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), "kb-ctx-"));
  for (const [p, v] of Object.entries(files)) {
    const abs = join(dir, p);
    if (p.endsWith("/")) {
      mkdirSync(abs, { recursive: true });
      continue;
    }
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof v === "string") writeFileSync(abs, v);
    else if (v.symlink !== undefined) spawnSync("ln", ["-s", v.symlink, abs]);
    else writeFileSync(abs, v.content ?? "", { mode: v.mode ?? 0o644 });
  }
  return dir;
}

export function tempDir(prefix = "kb-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs a program, failing the test with its output if it fails. */
export function must(cmd: string, args: string[], opts: { env?: Record<string, string> } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...opts.env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `skopeo inspect --config` of an image in a registry (plain http). */
export function skopeoConfig(ref: string): { config: Record<string, unknown>; architecture: string; os: string; history: unknown[] } {
  return JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", "--config", "--raw", `docker://${ref}`]));
}

/** `skopeo inspect --raw` (the manifest) of an image in a registry. */
export function skopeoRaw(ref: string): Record<string, unknown> {
  return JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`]));
}

export interface TreeEntry { type: string; mode: string; uid: number; gid: number; size?: number; sha256?: string; link?: string }

/** Lists a directory tree like the differential tests compare it: path → type, mode, owner, size, sha256, link. */
export function listTree(root: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, p));
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      if (st.isDirectory()) {
        out[p] = { type: "dir", mode, uid: st.uid, gid: st.gid };
        walk(p);
      } else if (st.isSymbolicLink()) out[p] = { type: "symlink", mode, uid: st.uid, gid: st.gid, link: readlinkSync(join(root, p)) };
      else if (st.isFile()) out[p] = { type: "file", mode, uid: st.uid, gid: st.gid, size: st.size, sha256: createHash("sha256").update(readFileSync(join(root, p))).digest("hex") };
      else out[p] = { type: "other", mode, uid: st.uid, gid: st.gid };
    }
  };
  walk("");
  return out;
}

/**
 * `umoci unpack` of `image` (LAYOUT:TAG) into `bundle`: as root the owners are kept; as another user `--rootless`
 * (every file the caller's, umoci cannot chown).
 */
export function umociUnpack(image: string, bundle: string): void {
  must("umoci", ["unpack", ...(process.getuid?.() === 0 ? [] : ["--rootless"]), "--image", image, bundle]);
}

/** Copies an image from the registry with skopeo and unpacks it with umoci (as root: owners kept). Returns the rootfs. */
export function unpackFromRegistry(ref: string): string {
  const dir = tempDir("kb-unpack-");
  must("skopeo", ["copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${dir}/oci:img`]);
  umociUnpack(`${dir}/oci:img`, `${dir}/bundle`);
  return join(dir, "bundle", "rootfs");
}

/**
 * Owners of an image's files as its layer tars record them (skopeo copies the image, GNU tar lists each layer;
 * a later layer wins): what a user who is not root checks instead of an unpacked tree, where umoci --rootless
 * gives every file to the caller. Paths without a leading "/" or "./".
 */
export function layerOwners(ref: string): Record<string, { uid: number; gid: number }> {
  const dir = tempDir("kb-owners-");
  must("skopeo", ["copy", "--src-tls-verify=false", `docker://${ref}`, `dir:${dir}`]);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { layers: { digest: string }[] };
  const owners: Record<string, { uid: number; gid: number }> = {};
  for (const l of manifest.layers) {
    for (const line of must("tar", ["--numeric-owner", "-tvf", join(dir, l.digest.slice(7))]).split("\n")) {
      const m = /^\S+\s+(\d+)\/(\d+)\s+\d+\s+\S+\s+\S+\s+(.+?)(?: -> .*| link to .*)?$/.exec(line);
      if (m) owners[m[3]!.replace(/^\.?\//, "").replace(/\/$/, "")] = { uid: Number(m[1]), gid: Number(m[2]) };
    }
  }
  return owners;
}

/** Unpacks an OCI layout written by kb with umoci. */
export function unpackLayout(layout: string, tag: string): string {
  const dir = tempDir("kb-unpack-");
  umociUnpack(`${layout}:${tag}`, `${dir}/bundle`);
  return join(dir, "bundle", "rootfs");
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
