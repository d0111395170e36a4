// The SBOM of an image: one streaming walk of its layers with every scanner, then an SPDX 2.3 document.

import type { Image } from "../image/image.ts";
import { readCapped, walkVisibleFiles } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";
import { apkScanner } from "./scan-apk.ts";
import { dpkgScanner } from "./scan-dpkg.ts";
import { goScanner } from "./scan-go.ts";
import { npmScanner } from "./scan-npm.ts";
import { pythonScanner } from "./scan-python.ts";
import { spdxDocument, type SpdxOptions } from "./spdx.ts";

const OS_RELEASE = new Set(["etc/os-release", "usr/lib/os-release"]);

/** The scanners kb runs, in the order they are offered a file. */
export function defaultScanners(): Scanner[] {
  return [dpkgScanner(), apkScanner(), npmScanner(), pythonScanner(), goScanner()];
}

/** What a scan found. */
export interface ScanResult {
  packages: FoundPackage[];
  distro?: { id: string; versionId?: string };
  /** Files read (the walk skips the rest without reading their bytes). */
  filesRead: number;
  /** Tar entries walked and paths remembered (the walk's memory). */
  walk: { entries: number; remembered: number };
}

/**
 * Scans an image's visible files with every scanner, in one pass over its layers (top first).
 * @example const { packages } = await scanImage(img)
 */
export async function scanImage(img: Image, signal?: AbortSignal, scanners: Scanner[] = defaultScanners()): Promise<ScanResult> {
  let distro: ScanResult["distro"];
  let filesRead = 0;
  const walk = await walkVisibleFiles(
    await img.layers(),
    {
      wants: (path, e) => OS_RELEASE.has(path) || scanners.some((s) => s.wants(path, e)),
      wantsHidden: (path) => scanners.some((s) => s.wantsHidden?.(path)),
      async read(file, body) {
        filesRead++;
        if (OS_RELEASE.has(file.path)) {
          const b = await readCapped(body, 64 << 10);
          if (!b || distro) return;
          const kv = new Map([...new TextDecoder().decode(b).matchAll(/^([A-Z_]+)=("?)(.*)\2$/gm)].map((m) => [m[1]!, m[3]!]));
          if (kv.get("ID")) distro = { id: kv.get("ID")!, versionId: kv.get("VERSION_ID") };
          return;
        }
        const s = scanners.find((x) => (file.hidden ? x.wantsHidden?.(file.path) : x.wants(file.path, file.entry)))!;
        await s.read(file, body);
      },
    },
    signal,
  );
  return { packages: scanners.flatMap((s) => s.packages(distro)), distro, filesRead, walk };
}

/** Options of {@link imageSbom}. */
export interface ImageSbomOptions extends SpdxOptions {
  name: string;
  base?: { ref: string; digest: string };
  signal?: AbortSignal;
}

/**
 * The SPDX 2.3 document of an image (packages from its layers; the base image as a package with its digest).
 * @example const doc = await imageSbom(img, { name: "app:1", created, tool: "kb-0.3.0" })
 */
export async function imageSbom(img: Image, opts: ImageSbomOptions): Promise<Record<string, unknown>> {
  const scan = await scanImage(img, opts.signal);
  const config = await img.config();
  const layers = config.rootfs?.diff_ids ?? [];
  return spdxDocument({ name: opts.name, digest: await img.digest(), layers, base: opts.base }, scan.packages, opts);
}
