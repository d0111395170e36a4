// The SBOM of an image: every layer scanned once (or its scan reused by diffID), applied top-down, then SPDX 2.3.

import { createHash } from "node:crypto";
import type { Image } from "../image/image.ts";
import { readText, walkLayers, type LayerScan, type LayerScanCache, type WalkStats } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";
import { apkScanner } from "./scan-apk.ts";
import { dpkgScanner } from "./scan-dpkg.ts";
import { goScanner } from "./scan-go.ts";
import { npmScanner } from "./scan-npm.ts";
import { pythonScanner } from "./scan-python.ts";
import { spdxDocument, type SpdxOptions } from "./spdx.ts";

const OS_RELEASE = new Set(["etc/os-release", "usr/lib/os-release"]);
/** Bump when a scanner's parse output changes: cached layer scans of older versions are then not used. */
export const SCAN_VERSION = "kb-sbom-layer-scan-v1";

/** The scanners kb runs, in the order they are offered a file. */
export function defaultScanners(): Scanner[] {
  return [dpkgScanner(), apkScanner(), npmScanner(), pythonScanner(), goScanner()];
}

/** What a scan found. */
export interface ScanResult {
  packages: FoundPackage[];
  distro?: { id: string; versionId?: string };
  walk: WalkStats;
}

/** Options of {@link scanImage} and {@link imageSbom}. */
export interface ScanOptions {
  cache?: LayerScanCache;
  signal?: AbortSignal;
  scanners?: Scanner[];
}

/**
 * Scans an image's visible files with every scanner (one streaming read per layer not in `cache`).
 * @example const { packages } = await scanImage(img)
 */
export async function scanImage(img: Image, opts: ScanOptions = {}): Promise<ScanResult> {
  const scanners = opts.scanners ?? defaultScanners();
  let distro: ScanResult["distro"];
  const os = {
    name: "os-release",
    wants: (path: string) => OS_RELEASE.has(path),
    async parse(_p: string, _e: unknown, body: ReadableStream<Uint8Array>) {
      const text = await readText(body, 64 << 10);
      const kv = new Map([...(text ?? "").matchAll(/^([A-Z_]+)=("?)(.*)\2$/gm)].map((m) => [m[1]!, m[3]!]));
      return kv.get("ID") ? { id: kv.get("ID")!, versionId: kv.get("VERSION_ID") } : undefined;
    },
    add(_p: string, data: unknown) {
      distro ??= data as ScanResult["distro"];
    },
  };
  const walk = await walkLayers(await img.layers(), [os, ...scanners], { cache: opts.cache, signal: opts.signal });
  return { packages: scanners.flatMap((s) => s.packages(distro)), distro, walk };
}

/**
 * Layer scans kept in kb's store cache (records of kind "sbom-layer-scan"), so a base layer is read once.
 * @example const cache = storeScanCache(store.cache)
 */
export function storeScanCache(index: { get(key: string): Promise<{ kind: string; data: unknown } | undefined>; put(key: string, r: { kind: string; data: unknown; refs: [] }): Promise<unknown> }): LayerScanCache {
  const key = (d: string) => createHash("sha256").update(`${SCAN_VERSION}\0${d}`).digest("hex");
  return {
    async get(d) {
      const r = await index.get(key(d));
      return r?.kind === "sbom-layer-scan" ? (r.data as LayerScan) : undefined;
    },
    async put(d, scan) {
      await index.put(key(d), { kind: "sbom-layer-scan", data: scan, refs: [] });
    },
  };
}

/** Options of {@link imageSbom}. */
export interface ImageSbomOptions extends SpdxOptions, ScanOptions {
  name: string;
  base?: { ref: string; digest: string };
}

/**
 * The SPDX 2.3 document of an image (packages from its layers; the base image as a package with its digest).
 * @example const doc = await imageSbom(img, { name: "app:1", created, tool: "kb-0.3.0" })
 */
export async function imageSbom(img: Image, opts: ImageSbomOptions): Promise<{ doc: Record<string, unknown>; walk: WalkStats }> {
  const scan = await scanImage(img, opts);
  const config = await img.config();
  const layers = config.rootfs?.diff_ids ?? [];
  return { doc: spdxDocument({ name: opts.name, digest: await img.digest(), layers, base: opts.base }, scan.packages, opts), walk: scan.walk };
}
