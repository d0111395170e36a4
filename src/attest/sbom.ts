// The SBOM of an image: every layer scanned once (or its scan reused by diffID), applied top-down, then SPDX 2.3.

import { createHash } from "node:crypto";
import type { Image } from "../image/image.ts";
import type { Layer } from "../image/image.ts";
import { readText, scanLayerTar, walkLayers, type FileScanner, type LayerScan, type LayerScanCache, type WalkStats } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";
import { apkScanner } from "./scan-apk.ts";
import { dpkgScanner } from "./scan-dpkg.ts";
import { goScanner } from "./scan-go.ts";
import { npmScanner } from "./scan-npm.ts";
import { pythonScanner } from "./scan-python.ts";
import { spdxDocument, type SpdxOptions } from "./spdx.ts";

const OS_RELEASE = new Set(["etc/os-release", "usr/lib/os-release"]);
/** Bump when a scanner's parse output changes: cached layer scans of older versions are then not used. */
export const SCAN_VERSION = "kb-sbom-layer-scan-v2";

/** The scanners kb runs, in the order they are offered a file. */
export function defaultScanners(): Scanner[] {
  return [dpkgScanner(), apkScanner(), npmScanner(), pythonScanner(), goScanner()];
}

/** /etc/os-release: the distro id and version, for purls. */
function osReleaseScanner(onDistro: (d: { id: string; versionId?: string }) => void): FileScanner {
  return {
    name: "os-release",
    wants: (path: string) => OS_RELEASE.has(path),
    async parse(_p, _e, body) {
      const text = await readText(body, 64 << 10);
      const kv = new Map([...(text ?? "").matchAll(/^([A-Z_]+)=("?)(.*)\2$/gm)].map((m) => [m[1]!, m[3]!]));
      return kv.get("ID") ? { id: kv.get("ID")!, versionId: kv.get("VERSION_ID") } : undefined;
    },
    add: (_p, data) => onDistro(data as { id: string; versionId?: string }),
  };
}

/**
 * A scan cache that can read layers ahead: `prescan` scans layers in the background (while the build runs) and
 * `get` waits for a scan in flight instead of reading the layer a second time.
 */
export function prefetchingScanCache(base: LayerScanCache): LayerScanCache & { prescan(layers: Layer[], signal?: AbortSignal): void; backgroundMs(): number } {
  const pending = new Map<string, Promise<LayerScan | undefined>>();
  let background = 0;
  const parsers = [osReleaseScanner(() => {}), ...defaultScanners()];
  let chain: Promise<unknown> = Promise.resolve();
  return {
    async get(d) {
      return (await pending.get(d)) ?? base.get(d);
    },
    put: (d, s) => base.put(d, s),
    backgroundMs: () => background,
    prescan(layers, signal) {
      // Layers are scanned one after another (two cores: the build needs the other); each diffID gets its
      // pending entry at once, so a walk that comes early waits for the scan rather than repeating it.
      chain = chain.then(async () => {
        const jobs: [string, Layer, (s: LayerScan | undefined) => void][] = [];
        for (const l of layers) {
          const d = await l.diffId();
          if (pending.has(d)) continue;
          let done!: (s: LayerScan | undefined) => void;
          pending.set(d, new Promise((r) => (done = r)));
          jobs.push([d, l, done]);
        }
        for (const [d, l, done] of jobs) {
          try {
            if (await base.get(d).catch(() => undefined)) done(undefined);
            else {
              const t0 = performance.now();
              const scan = await scanLayerTar(l, parsers, signal);
              background += performance.now() - t0;
              await base.put(d, scan).catch(() => undefined);
              done(scan);
            }
          } catch {
            done(undefined);
          }
        }
      }).catch(() => undefined);
    },
  };
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
  const os = osReleaseScanner((d) => (distro ??= d));
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
