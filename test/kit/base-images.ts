// Offline base images for tests: a busybox rootfs from busybox-static, packed as one gzip layer and pushed with skopeo.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestRegistry } from "./registry-server.ts";

const BUSYBOX = "/bin/busybox";

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : r.error ? String(r.error) : `exit ${r.status}`;
    throw new Error(`${cmd} ${args.join(" ")} failed (${how})${r.stderr ? `: ${r.stderr}` : ""}`);
  }
  return r.stdout;
}

function busyboxVersion(): string {
  if (!existsSync(BUSYBOX)) throw new Error("/bin/busybox is missing: run `apt-get install busybox-static`");
  return createHash("sha256").update(readFileSync(BUSYBOX)).digest("hex").slice(0, 16);
}

/** Builds a busybox rootfs in `dir` (from `binary`, applets as the host's busybox lists them): applet symlinks, /etc/passwd and /etc/group (root, daemon, nobody, app 1000), a 1777 /tmp. */
export function busyboxRootfs(dir: string, binary = BUSYBOX): void {
  mkdirSync(path.join(dir, "bin"), { recursive: true });
  copyFileSync(binary, path.join(dir, "bin/busybox"));
  chmodSync(path.join(dir, "bin/busybox"), 0o755);
  for (const line of sh(BUSYBOX, ["--list-full"]).split("\n")) {
    const rel = line.trim();
    if (!rel || rel === "bin/busybox") continue;
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    if (!existsSync(p)) symlinkSync("/bin/busybox", p);
  }
  for (const d of ["etc", "root", "home/app", "var", "dev", "proc", "sys"]) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n");
  writeFileSync(path.join(dir, "etc/group"), "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\napp:x:1000:\n");
  mkdirSync(path.join(dir, "tmp"), { recursive: true });
  chmodSync(path.join(dir, "tmp"), 0o1777);
  // Only root can give a folder away; the packed layers force owner 0 anyway (tar --owner=0), so this is for root's
  // own use of the tree. As another user it failed, and every suite on the busybox fixture with it.
  if (process.getuid?.() === 0) sh("chown", ["1000:1000", path.join(dir, "home/app")]);
}

function writeBlob(layout: string, data: Uint8Array | string): { digest: string; size: number } {
  const buf = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  const hex = createHash("sha256").update(buf).digest("hex");
  mkdirSync(path.join(layout, "blobs/sha256"), { recursive: true });
  writeFileSync(path.join(layout, "blobs/sha256", hex), buf);
  return { digest: `sha256:${hex}`, size: buf.length };
}

/**
 * An OCI layout with tag "latest": one busybox image (`index: false`) or a 2-platform index (amd64 and
 * arm64). The arm64 entry reuses the same (x86_64) layer with a config saying arm64: a platform-selection
 * fixture only, not runnable on arm64. Cached under os.tmpdir()/kb-test-fixtures/.
 */
export function busyboxLayout(index = false): string {
  const root = path.join(tmpdir(), "kb-test-fixtures", `busybox-${busyboxVersion()}`);
  const layout = path.join(root, index ? "oci-index" : "oci");
  if (existsSync(path.join(layout, "index.json"))) return layout;
  const work = `${root}.tmp-${process.pid}-${Date.now()}`;
  const rootfs = path.join(work, "rootfs");
  busyboxRootfs(rootfs);
  const tarFile = path.join(work, "layer.tar");
  sh("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", rootfs, "-cf", tarFile, "."]);
  const diffId = `sha256:${createHash("sha256").update(readFileSync(tarFile)).digest("hex")}`;
  sh("gzip", ["-n", "-6", tarFile]);
  const out = path.join(work, "layout");
  const layer = writeBlob(out, readFileSync(`${tarFile}.gz`));
  const manifests = (index ? ["amd64", "arm64"] : ["amd64"]).map((arch) => {
    const config = writeBlob(out, JSON.stringify({
      architecture: arch, os: "linux", created: "1970-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: "1970-01-01T00:00:00Z", created_by: "kb test fixture: busybox-static" }],
    }));
    const m = writeBlob(out, JSON.stringify({
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    }));
    return { mediaType: "application/vnd.oci.image.manifest.v1+json", ...m, platform: { architecture: arch, os: "linux" } };
  });
  let entry: object = { ...manifests[0], platform: undefined };
  if (index) entry = { mediaType: "application/vnd.oci.image.index.v1+json", ...writeBlob(out, JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests })) };
  const ann = { annotations: { "org.opencontainers.image.ref.name": "latest" } };
  writeFileSync(path.join(out, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ ...entry, ...ann }] }));
  writeFileSync(path.join(out, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  mkdirSync(root, { recursive: true });
  try {
    renameSync(out, layout);
  } catch {
    // another process won the race; its layout is identical
  }
  rmSync(work, { recursive: true, force: true });
  return layout;
}

/** Runs a command asynchronously (the token issuer lives in this process and must keep answering). */
function shAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${err}`))));
  });
}

async function skopeoCopy(layout: string, registry: TestRegistry, repo: string, tag: string, all: boolean): Promise<string> {
  const dest = `${registry.host}/${repo}:${tag}`;
  const args = ["copy", "--quiet", "--dest-tls-verify=false", ...(all ? ["--all"] : [])];
  if (registry.username) args.push("--dest-creds", `${registry.username}:${registry.password}`);
  await shAsync("skopeo", [...args, `oci:${layout}:latest`, `docker://${dest}`]);
  return dest;
}

/** Pushes the busybox image to `registry` and returns its reference text ("127.0.0.1:PORT/library/busybox:latest"). */
export function pushBusyboxImage(registry: TestRegistry, repo = "library/busybox", tag = "latest"): Promise<string> {
  return skopeoCopy(busyboxLayout(false), registry, repo, tag, false);
}

/** Pushes the 2-platform (linux/amd64, linux/arm64) busybox index; arm64 is a selection fixture only. */
export function pushBusyboxIndex(registry: TestRegistry, repo = "library/busybox-multi", tag = "latest"): Promise<string> {
  return skopeoCopy(busyboxLayout(true), registry, repo, tag, true);
}

/**
 * An aarch64 busybox from Debian's `busybox-static:arm64` (`$KB_ARM64_BUSYBOX`, else `apt-get download` +
 * `dpkg-deb -x`, cached under os.tmpdir()/kb-test-fixtures/), or why it cannot be had.
 */
export function arm64Busybox(): { path: string } | { skip: string } {
  const env = process.env.KB_ARM64_BUSYBOX;
  if (env) return existsSync(env) ? { path: env } : { skip: `KB_ARM64_BUSYBOX="${env}" does not exist` };
  const dir = path.join(tmpdir(), "kb-test-fixtures", "busybox-arm64");
  const bin = path.join(dir, "bin/busybox");
  if (existsSync(bin)) return { path: bin };
  const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(work, { recursive: true });
  try {
    const dl = spawnSync("apt-get", ["download", "-q", "busybox-static:arm64"], { cwd: work, encoding: "utf8" });
    const deb = dl.status === 0 ? readdirSync(work).find((f) => f.endsWith(".deb")) : undefined;
    if (!deb) return { skip: `cannot fetch busybox-static:arm64 (${(dl.stderr || String(dl.error)).trim().split("\n").pop()}); run \`dpkg --add-architecture arm64 && apt-get update\`` };
    sh("dpkg-deb", ["-x", path.join(work, deb), path.join(work, "x")]);
    mkdirSync(path.dirname(dir), { recursive: true });
    try {
      renameSync(path.join(work, "x"), dir);
    } catch {
      // another process won the race
    }
    return existsSync(bin) ? { path: bin } : { skip: `the busybox-static:arm64 package has no /bin/busybox` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Packs a rootfs as one gzip layer into `out` and writes an OCI image for `arch`; returns the manifest descriptor. */
function packImage(out: string, rootfs: string, arch: string, work: string) {
  const tarFile = path.join(work, `layer-${arch}.tar`);
  sh("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", rootfs, "-cf", tarFile, "."]);
  const diffId = `sha256:${createHash("sha256").update(readFileSync(tarFile)).digest("hex")}`;
  sh("gzip", ["-n", "-6", tarFile]);
  const layer = writeBlob(out, readFileSync(`${tarFile}.gz`));
  const config = writeBlob(out, JSON.stringify({
    architecture: arch, os: "linux", created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: `kb test fixture: busybox-static (${arch})` }],
  }));
  const m = writeBlob(out, JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
  }));
  return { mediaType: "application/vnd.oci.image.manifest.v1+json", ...m, platform: { architecture: arch, os: "linux" } };
}

/**
 * An OCI layout (tag "latest") holding a runnable 2-platform busybox index: linux/amd64 from /bin/busybox and
 * linux/arm64 from Debian's aarch64 busybox-static. Returns why not when the arm64 binary cannot be had.
 */
export function busyboxMultiArchLayout(): { layout: string } | { skip: string } {
  const arm = arm64Busybox();
  if ("skip" in arm) return arm;
  const armHash = createHash("sha256").update(readFileSync(arm.path)).digest("hex").slice(0, 16);
  const root = path.join(tmpdir(), "kb-test-fixtures", `busybox-${busyboxVersion()}`);
  const layout = path.join(root, `oci-multiarch-${armHash}`);
  if (existsSync(path.join(layout, "index.json"))) return { layout };
  const work = `${root}.tmp-${process.pid}-${Date.now()}`;
  const out = path.join(work, "layout");
  const manifests = [["amd64", BUSYBOX], ["arm64", arm.path]].map(([arch, bin]) => {
    const rootfs = path.join(work, `rootfs-${arch}`);
    busyboxRootfs(rootfs, bin);
    return packImage(out, rootfs, arch!, work);
  });
  const idx = writeBlob(out, JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }));
  const entry = { mediaType: "application/vnd.oci.image.index.v1+json", ...idx, annotations: { "org.opencontainers.image.ref.name": "latest" } };
  writeFileSync(path.join(out, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [entry] }));
  writeFileSync(path.join(out, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  mkdirSync(root, { recursive: true });
  try {
    renameSync(out, layout);
  } catch {
    // another process won the race; its layout is identical
  }
  rmSync(work, { recursive: true, force: true });
  return { layout };
}

/** Pushes the runnable amd64+arm64 busybox index; returns its reference, or why it cannot be made. */
export async function pushBusyboxMultiArch(registry: TestRegistry, repo = "library/busybox-multiarch", tag = "latest"): Promise<{ ref: string } | { skip: string }> {
  const made = busyboxMultiArchLayout();
  if ("skip" in made) return made;
  return { ref: await skopeoCopy(made.layout, registry, repo, tag, true) };
}
