// The big-base fixture: busybox plus 100,000 small files under /data, packed with tar/gzip and pushed with skopeo.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { busyboxRootfs } from "../../test/kit/base-images.ts";

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest("hex");
}

function writeJsonBlob(layout: string, obj: unknown): { digest: string; size: number } {
  const buf = Buffer.from(JSON.stringify(obj));
  const hex = createHash("sha256").update(buf).digest("hex");
  writeFileSync(path.join(layout, "blobs/sha256", hex), buf);
  return { digest: `sha256:${hex}`, size: buf.length };
}

/** Builds (once, cached under tmpdir) an OCI layout of busybox + `files` files in folders of 1,000 under /data. */
export async function bigBaseLayout(files: number): Promise<string> {
  const layout = path.join(tmpdir(), "kb-bench-fixtures", `big-base-${files}`);
  if (existsSync(path.join(layout, "index.json"))) return layout;
  const work = `${layout}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const rootfs = path.join(work, "rootfs");
  busyboxRootfs(rootfs);
  for (let i = 0; i < files; i++) {
    const d = path.join(rootfs, "data", `d${String(Math.floor(i / 1000)).padStart(3, "0")}`);
    if (i % 1000 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, `f${i % 1000}.txt`), `file ${i}\n`);
  }
  const tar = path.join(work, "layer.tar");
  sh("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", rootfs, "-cf", tar, "."]);
  const diffId = `sha256:${await sha256File(tar)}`;
  sh("gzip", ["-n", "-1", tar]);
  const out = path.join(work, "layout");
  mkdirSync(path.join(out, "blobs/sha256"), { recursive: true });
  const hex = await sha256File(`${tar}.gz`);
  renameSync(`${tar}.gz`, path.join(out, "blobs/sha256", hex));
  const layer = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${hex}`, size: statSync(path.join(out, "blobs/sha256", hex)).size };
  const config = writeJsonBlob(out, {
    architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "kb bench fixture: busybox + 100,000 files" }],
  });
  const manifest = writeJsonBlob(out, { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [layer] });
  writeFileSync(path.join(out, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "latest" } }] }));
  writeFileSync(path.join(out, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  mkdirSync(path.dirname(layout), { recursive: true });
  renameSync(out, layout);
  rmSync(work, { recursive: true, force: true });
  return layout;
}

/** Pushes the big base to `host` (plain HTTP) as bench/big-base:latest and returns the reference. */
export async function pushBigBase(host: string, files: number): Promise<string> {
  const layout = await bigBaseLayout(files);
  const ref = `${host}/bench/big-base:latest`;
  await new Promise<void>((resolve, reject) => {
    const c = spawn("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:latest`, `docker://${ref}`], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => (err += d));
    c.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`skopeo copy of the big base failed: ${err}`))));
  });
  return ref;
}
