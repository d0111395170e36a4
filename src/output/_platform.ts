// Platform selection from an index (first match wins, per the image-index spec), on src/image/platform.ts.

import { KbError } from "../errors.ts";
import { formatPlatform, parsePlatform, platformMatches } from "../image/platform.ts";
import type { Descriptor, Platform } from "../image/types.ts";

/** A Platform from "os/arch[/variant]" or as is. */
export function toPlatform(p: Platform | string): Platform {
  return typeof p === "string" ? parsePlatform(p) : p;
}

/** The first descriptor matching `want`, else a PLATFORM_NOT_FOUND error listing what there is. */
export function selectPlatform(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const hit = manifests.find((m) => m.platform && platformMatches(want, m.platform));
  if (hit) return hit;
  const have = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "unknown")).join(", ");
  throw new KbError("PLATFORM_NOT_FOUND", `Cannot find platform "${formatPlatform(want)}" in ${where}: it has ${have || "no images"}`, {
    hint: "pass --platform with one of those",
  });
}
