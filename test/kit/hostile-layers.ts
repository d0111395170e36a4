// Hostile layers as real tar.gz blobs, written byte by byte here (not with kb's tar codec), and pushed to
// a test registry as base images on top of busybox: `..` entries, absolute paths, symlinks out followed by
// a file under them, hardlinks out, devices and setuid, duplicates, a whiteout naming `..`, a
// decompression bomb, a tar cut mid-entry.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createGzip, gzipSync } from "node:zlib";
import { assembleImage, parseReference, MediaType, type Digest, type Layer } from "../../src/image/index.ts";
import { createRegistryClient, pushImage, staticCredentials } from "../../src/registry/index.ts";
import { busyboxLayout } from "./base-images.ts";
import { memoryLayer } from "./random-image.ts";
import type { TestRegistry } from "./registry-server.ts";

/** One tar member to write: a type flag ("0" file, "1" hardlink, "2" symlink, "3" char, "4" block, "5" dir, "6" fifo). */
export interface RawEntry { name: string; type?: string; mode?: number; content?: string; link?: string; devmajor?: number; devminor?: number; size?: number }

const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0") + "\0";

/** A 512-byte ustar header; `size` overrides the content length (to declare more than is written). */
export function rawHeader(e: RawEntry): Uint8Array {
  const h = Buffer.alloc(512);
  const type = e.type ?? "0";
  const size = e.size ?? (type === "0" ? Buffer.byteLength(e.content ?? "") : 0);
  h.write(e.name, 0, 100, "utf8");
  h.write(octal(e.mode ?? (type === "5" ? 0o755 : 0o644), 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(0, 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(type, 156, "ascii");
  h.write(e.link ?? "", 157, 100, "utf8");
  h.write("ustar\0" + "00", 257, "ascii");
  h.write(octal(e.devmajor ?? 0, 8), 329, "ascii");
  h.write(octal(e.devminor ?? 0, 8), 337, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

/** A whole tar of `entries`; `truncateAt` cuts the bytes there (a tar that ends mid-entry, no end blocks). */
export function rawTar(entries: RawEntry[], truncateAt?: (full: Buffer) => number): Uint8Array {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(Buffer.from(rawHeader(e)));
    const body = Buffer.from(e.type === undefined || e.type === "0" ? e.content ?? "" : "");
    parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  const full = Buffer.concat(parts);
  return truncateAt ? full.subarray(0, truncateAt(full)) : full;
}

const sha256 = (b: Uint8Array): Digest => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A gzip layer over a tar, its diffID the tar's sha256 (so only the tar reader can object). */
export function tarGzLayer(tar: Uint8Array): Layer {
  return memoryLayer(gzipSync(tar, { level: 6 }), sha256(tar), MediaType.OciLayerGzip, tar);
}

/** A gzip layer holding one file of `bytes` zero bytes at `name`: megabytes of tar from a small blob. */
export async function bombLayer(name: string, bytes: number): Promise<{ layer: Layer; compressed: number }> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on("data", (c: Buffer) => out.push(c));
  const ended = new Promise((r) => gz.on("end", r));
  const tarHash = createHash("sha256");
  const write = (b: Uint8Array) => {
    tarHash.update(b);
    return gz.write(b) || new Promise((r) => gz.once("drain", r));
  };
  await write(rawHeader({ name, size: bytes }));
  const zeros = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= zeros.length) await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
  await write(Buffer.alloc((512 - (bytes % 512)) % 512 + 1024));
  gz.end();
  await ended;
  const compressed = Buffer.concat(out);
  return { layer: memoryLayer(compressed, `sha256:${tarHash.digest("hex")}`, MediaType.OciLayerGzip), compressed: compressed.length };
}

/** The busybox base layer (from the offline fixture layout) as a Layer. */
export function busyboxLayer(): Layer {
  const layout = busyboxLayout(false);
  const blob = (d: string) => readFileSync(path.join(layout, "blobs/sha256", d.slice(7)));
  const index = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8"));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  const config = JSON.parse(blob(manifest.config.digest).toString());
  return memoryLayer(blob(manifest.layers[0].digest), config.rootfs.diff_ids[0], manifest.layers[0].mediaType);
}

/** Pushes busybox + `layers` as `repo:tag` with kb's registry client; returns the reference text. */
export async function pushHostileImage(reg: TestRegistry, repo: string, layers: Layer[], tag = "latest"): Promise<string> {
  const client = createRegistryClient({ insecure: [reg.host], auth: staticCredentials({}), env: {} });
  const all = [busyboxLayer(), ...layers];
  const image = assembleImage({
    layers: all,
    mediaTypes: "oci",
    config: {
      architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [] },
      history: all.map((_, i) => ({ created: "1970-01-01T00:00:00Z", created_by: `hostile layer ${i}` })),
    },
  });
  const ref = `${reg.host}/${repo}:${tag}`;
  await pushImage(client, [parseReference(ref)], image);
  return ref;
}

/** The hostile cases; `escape` is a host directory the entries aim at (absolute, e.g. /tmp/kb-hostile-XYZ). */
export function hostileCases(escape: string): Record<string, { entries: RawEntry[]; truncate?: (full: Buffer) => number; hostPaths: string[] }> {
  const up = "../".repeat(12);
  const rel = escape.replace(/^\//, "");
  return {
    "dotdot": { entries: [{ name: `${up}${rel}/dotdot`, content: "escaped via ..\n" }, { name: "ok-dotdot", content: "ok\n" }], hostPaths: [`${escape}/dotdot`] },
    "absolute": { entries: [{ name: `${escape}/absolute`, content: "absolute\n" }], hostPaths: [`${escape}/absolute`] },
    "symlink-root": {
      entries: [{ name: "evil", type: "2", link: "/" }, { name: `evil/${rel}/via-root-link`, content: "through a link to /\n" }],
      hostPaths: [`${escape}/via-root-link`],
    },
    "symlink-out": {
      entries: [{ name: "up", type: "2", link: `${up}${rel}` }, { name: "up/via-rel-link", content: "through ../ link\n" }],
      hostPaths: [`${escape}/via-rel-link`],
    },
    "hardlink-out": {
      entries: [{ name: "hl-rel", type: "1", link: `${up}${rel}/sentinel/secret` }, { name: "hl-abs", type: "1", link: `${escape}/sentinel/secret` }],
      hostPaths: [],
    },
    "devices-setuid": {
      entries: [
        { name: "dev/", type: "5" },
        { name: "dev/kbnull", type: "3", mode: 0o666, devmajor: 1, devminor: 3 },
        { name: "dev/kbloop", type: "4", mode: 0o660, devmajor: 7, devminor: 0 },
        { name: "fifo", type: "6", mode: 0o644 },
        { name: "suid", mode: 0o4755, content: "#!/bin/sh\necho suid\n" },
        { name: "sgid-dir/", type: "5", mode: 0o2775 },
      ],
      hostPaths: [],
    },
    "duplicates": {
      entries: [{ name: "dup", content: "first\n" }, { name: "dup", content: "second\n" }, { name: "dupdir/", type: "5" }, { name: "dupdir", content: "file replaces dir\n" }],
      hostPaths: [],
    },
    "whiteout-dotdot": {
      entries: [{ name: "sub/", type: "5" }, { name: "sub/.wh...", content: "" }, { name: `${up}${rel}/.wh.sentinel`, content: "" }, { name: ".wh..", content: "" }],
      hostPaths: [],
    },
    "truncated": {
      entries: [{ name: "before", content: "fine\n" }, { name: "cut", content: "x".repeat(3000) }],
      truncate: (full) => 512 + 512 + 512 + 700,
      hostPaths: [],
    },
  };
}
