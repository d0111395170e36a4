// Platforms ("linux/arm64/v8"): parsing, formatting, normalisation and matching, as containerd's platforms package.

import { KbError } from "../errors.ts";
import { isIndexMediaType, type Descriptor, type Platform } from "./types.ts";

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
  x86: { architecture: "386" },
};

/** Normalises aliases: x86_64 → amd64, aarch64 → arm64, arm64/v8 → arm64, amd64/v1 → amd64, arm → arm/v7. */
export function normalizePlatform(p: Platform): Platform {
  const os = (p.os || "linux").toLowerCase();
  let architecture = (p.architecture || "").toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant = variant ?? alias.variant;
  }
  if (architecture === "arm64" && (variant === "v8" || variant === "8")) variant = undefined;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  if (architecture === "arm") {
    if (!variant || variant === "7") variant = "v7";
    else if (/^\d$/.test(variant)) variant = `v${variant}`;
  }
  const out: Platform = { os, architecture };
  if (variant) out.variant = variant;
  if (p["os.version"]) out["os.version"] = p["os.version"];
  return out;
}

/**
 * Parses "os/arch[/variant]" (or just "arch", meaning linux).
 * @example parsePlatform("linux/arm64/v8") // { os: "linux", architecture: "arm64" } after normalisation
 */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split("/");
  if (parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.+-]+$/.test(p)))
    throw new KbError("USAGE", `Cannot parse platform "${s}": expected os/arch[/variant]`, {
      hint: 'Write it like "linux/amd64" or "linux/arm64/v8"',
    });
  if (parts.length === 1) return normalizePlatform({ os: "linux", architecture: parts[0] });
  return normalizePlatform({ os: parts[0], architecture: parts[1], variant: parts[2] });
}

/** "os/arch[/variant]". */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

const NODE_ARCH: Record<string, Platform> = {
  x64: { os: "linux", architecture: "amd64" },
  arm64: { os: "linux", architecture: "arm64" },
  arm: { os: "linux", architecture: "arm", variant: "v7" },
  ia32: { os: "linux", architecture: "386" },
  ppc64: { os: "linux", architecture: "ppc64le" },
  s390x: { os: "linux", architecture: "s390x" },
  riscv64: { os: "linux", architecture: "riscv64" },
  loong64: { os: "linux", architecture: "loong64" },
  mips64el: { os: "linux", architecture: "mips64le" },
};

/** The platform kb runs on (node `process.arch` → OCI architecture); the OS is always linux for images. */
export function hostPlatform(): Platform {
  const p = NODE_ARCH[process.arch] ?? { os: "linux", architecture: process.arch };
  return { ...p };
}

/**
 * True when an image of platform `have` can serve a request for `want`. A `want` without a variant
 * accepts any variant of that architecture except for arm, where "arm" means arm/v7.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w.os === "windows" && w["os.version"] && h["os.version"] && !h["os.version"].startsWith(w["os.version"])) return false;
  if (!want.variant && w.architecture !== "arm") return true;
  return (w.variant ?? "") === (h.variant ?? "");
}

/**
 * The one platform rule for an index (the image-index spec's: first match wins). The entry for `want`: the first
 * image whose platform matches; else the first nested index without a platform (look inside it); else, when no
 * platform was asked for (`want` undefined: the host's), the first image; else PLATFORM_NOT_FOUND listing the
 * platforms there are. Attestation manifests (unknown/unknown) are never picked.
 * @example selectPlatform(index.manifests, parsePlatform("linux/arm64"), `"${ref}"`)
 */
export function selectPlatform(manifests: Descriptor[], want: Platform | undefined, where: string): Descriptor {
  const nestedIndex = (d: Descriptor) => isIndexMediaType(d.mediaType);
  const listed = manifests.filter((d) => d.platform && d.platform.os !== "unknown");
  const hit =
    listed.find((d) => platformMatches(want ?? hostPlatform(), d.platform!)) ??
    manifests.find((d) => !d.platform && nestedIndex(d)) ??
    (want ? undefined : manifests.find((d) => !nestedIndex(d) && d.platform?.os !== "unknown"));
  if (hit) return hit;
  const available = listed.map((d) => formatPlatform(d.platform!));
  throw new KbError(
    "PLATFORM_NOT_FOUND",
    `Cannot find platform "${formatPlatform(want ?? hostPlatform())}" in ${where}: it has ${available.length ? available.map((a) => `"${a}"`).join(", ") : "no platform entries"}`,
    { hint: available.length ? `Pass --platform ${available[0]} (or another listed one)` : "The index lists no usable image" },
  );
}
