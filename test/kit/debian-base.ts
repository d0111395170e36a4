// A Debian bookworm minbase image for the slow suite: debootstrap once, clean the rootfs so rootless tools can
// unpack it, pack it as one gzip layer (owners kept, numeric) into an OCI layout cached under
// os.tmpdir()/kb-test-fixtures, then push it to a test registry with skopeo.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestRegistry } from "./registry-server.ts";

const SUITE = "bookworm";
const FIXTURES = path.join(tmpdir(), "kb-test-fixtures");

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${(r.stderr || String(r.error)).slice(-3000)}`);
  return r.stdout;
}

/** Why the Debian base cannot be made here, or undefined when it can (root, debootstrap, umoci, skopeo). */
export function debianBaseUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "debootstrap needs root";
  for (const tool of ["debootstrap", "skopeo", "umoci"])
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install ${tool})`;
  return undefined;
}

/** The first Debian mirror serving `suite` in the apt sources of this machine (deb822 or one-line form). */
export function debianMirror(suite = SUITE): string {
  const dir = "/etc/apt/sources.list.d";
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sources") || f.endsWith(".list")).map((f) => path.join(dir, f)) : [];
  if (existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (file.endsWith(".sources")) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
        const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
        if (uris && suites.includes(suite)) return uris;
      }
    } else {
      for (const line of text.split("\n")) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m && m[2] === suite) return m[1]!;
      }
    }
  }
  return "http://deb.debian.org/debian";
}

/** Runs debootstrap minbase into `dir` and removes what an image should not carry (device nodes, apt lists, caches, logs). */
export function debootstrapMinbase(dir: string, mirror = debianMirror()): void {
  sh("debootstrap", ["--variant=minbase", SUITE, dir, mirror]);
  const clear = (rel: string) => {
    const abs = path.join(dir, rel);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs)) rmSync(path.join(abs, name), { recursive: true, force: true });
  };
  for (const rel of ["dev", "proc", "sys", "run", "tmp", "var/lib/apt/lists", "var/cache/apt", "var/cache/debconf", "var/log"]) clear(rel);
  mkdirSync(path.join(dir, "var/lib/apt/lists/partial"), { recursive: true });
  mkdirSync(path.join(dir, "var/cache/apt/archives/partial"), { recursive: true });
  for (const f of ["var/cache/debconf/config.dat", "var/cache/debconf/templates.dat"]) writeFileSync(path.join(dir, f), "");
  for (const f of ["etc/hostname", "etc/resolv.conf"]) rmSync(path.join(dir, f), { force: true });
}

function writeBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const hex = createHash("sha256").update(data).digest("hex");
  mkdirSync(path.join(layout, "blobs/sha256"), { recursive: true });
  writeFileSync(path.join(layout, "blobs/sha256", hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Packs `rootfs` as one gzip layer (numeric owners, sorted, mtime kept) into a new OCI layout `out` with tag "latest". */
export function packRootfsLayout(rootfs: string, out: string, cmd: string[] = ["bash"]): void {
  mkdirSync(out, { recursive: true });
  const tarFile = path.join(out, "..", `layer-${process.pid}.tar`);
  sh("tar", ["--sort=name", "--numeric-owner", "--xattrs", "-C", rootfs, "-cf", tarFile, "."]);
  const diffId = `sha256:${createHash("sha256").update(readFileSync(tarFile)).digest("hex")}`;
  sh("gzip", ["-n", "-1", "-f", tarFile]);
  const layer = writeBlob(out, readFileSync(`${tarFile}.gz`));
  rmSync(`${tarFile}.gz`, { force: true });
  const config = writeBlob(out, Buffer.from(JSON.stringify({
    architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: cmd },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: `kb test fixture: debootstrap --variant=minbase ${SUITE}` }],
  })));
  const manifest = writeBlob(out, Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
  })));
  writeFileSync(path.join(out, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "latest" } }] }));
  writeFileSync(path.join(out, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
}

/**
 * The cached bookworm minbase: `{ rootfs, layout }` under os.tmpdir()/kb-test-fixtures/debian-bookworm/ (made once,
 * about 70 s; later calls return at once). The rootfs stays so tests can pack it other ways (e.g. with kb itself).
 */
export function debianBase(): { rootfs: string; layout: string } {
  const root = path.join(FIXTURES, `debian-${SUITE}-minbase`);
  const rootfs = path.join(root, "rootfs");
  const layout = path.join(root, "oci");
  if (existsSync(path.join(layout, "index.json")) && existsSync(path.join(rootfs, "usr/bin/apt-get"))) return { rootfs, layout };
  const work = `${root}.tmp-${process.pid}-${Date.now()}`;
  try {
    debootstrapMinbase(path.join(work, "rootfs"));
    packRootfsLayout(path.join(work, "rootfs"), path.join(work, "oci"));
    rmSync(root, { recursive: true, force: true });
    mkdirSync(FIXTURES, { recursive: true });
    renameSync(work, root);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { rootfs, layout };
}

/** Pushes the bookworm minbase to `registry`; returns "127.0.0.1:PORT/library/debian:bookworm". */
export function pushDebianImage(registry: TestRegistry, repo = "library/debian", tag = SUITE): Promise<string> {
  const { layout } = debianBase();
  const dest = `${registry.host}/${repo}:${tag}`;
  const args = ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:latest`, `docker://${dest}`];
  return new Promise((resolve, reject) => {
    const child = spawn("skopeo", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(dest) : reject(new Error(`skopeo ${args.join(" ")} failed (${code}): ${err}`))));
  });
}
