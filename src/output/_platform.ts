// Platform parsing and selection from an index (first match wins, per the image-index spec).

import { KbError } from "../errors.ts";
import type { Descriptor, Platform } from "../image/types.ts";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** The platform kb runs on, as OCI names it. */
export function hostPlatform(): Platform {
  return { os: "linux", architecture: ARCH[process.arch] ?? process.arch };
}

/** Parses "os/arch[/variant]" (a Platform passes through). */
export function toPlatform(p: Platform | string): Platform {
  if (typeof p !== "string") return p;
  const [os, architecture, variant] = p.split("/");
  if (!os || !architecture) throw new KbError("USAGE", `Cannot parse platform "${p}": expected os/arch[/variant]`, { hint: 'e.g. "linux/amd64" or "linux/arm64/v8"' });
  return variant ? { os, architecture, variant } : { os, architecture };
}

function matches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  return !want.variant || have.variant === want.variant || (!have.variant && want.variant === "v8" && want.architecture === "arm64");
}

/** The first descriptor matching `want`, else a PLATFORM_NOT_FOUND error listing what there is. */
export function selectPlatform(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const hit = manifests.find((m) => matches(m.platform, want));
  if (hit) return hit;
  const have = manifests.map((m) => (m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/") : "unknown")).join(", ");
  const w = [want.os, want.architecture, want.variant].filter(Boolean).join("/");
  throw new KbError("PLATFORM_NOT_FOUND", `Cannot find platform "${w}" in ${where}: it has ${have || "no images"}`, { hint: "pass --platform with one of those" });
}
