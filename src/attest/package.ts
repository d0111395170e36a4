// The package record every SBOM scanner produces, and the purl spelling (https://github.com/package-url/purl-spec).

import type { FileScanner } from "./layer-walk.ts";

/** One package found in an image. */
export interface FoundPackage {
  /** purl type: deb, apk, npm, pypi, golang. */
  type: "deb" | "apk" | "npm" | "pypi" | "golang";
  name: string;
  version: string;
  /** purl namespace (npm scope without "@", distro id for deb/apk). */
  namespace?: string;
  /** A declared license (an SPDX expression or the text the package gives). */
  license?: string;
  /** The file the record came from (no leading "/"). */
  path: string;
  /** Index of the layer that brought it in (0 = base-most). */
  layer: number;
  /** purl qualifiers (arch, distro). */
  qualifiers?: Record<string, string>;
  /** Source package (deb), origin (apk). */
  source?: string;
}

/** A scanner: parses the files of one ecosystem and accumulates its packages. */
export interface Scanner extends FileScanner {
  /** What the walk found (called after the walk; `distro` from /etc/os-release). */
  packages(distro?: { id: string; versionId?: string }): FoundPackage[];
}

const enc = (s: string) => encodeURIComponent(s).replace(/%3A/g, ":");

/**
 * The package URL of a package.
 * @example purlOf({ type: "npm", namespace: "types", name: "node", version: "20.1.0", ... }) // "pkg:npm/%40types/node@20.1.0"
 */
export function purlOf(p: Pick<FoundPackage, "type" | "namespace" | "name" | "version" | "qualifiers">): string {
  const ns = p.namespace ? `${p.type === "npm" ? "%40" : ""}${p.namespace.split("/").map(enc).join("/")}/` : "";
  const name = p.type === "golang" ? p.name.split("/").map(enc).join("/") : enc(p.name);
  const q = Object.entries(p.qualifiers ?? {}).filter(([, v]) => v).sort(([a], [b]) => (a < b ? -1 : 1));
  return `pkg:${p.type}/${ns}${name}@${enc(p.version)}${q.length ? `?${q.map(([k, v]) => `${k}=${enc(v)}`).join("&")}` : ""}`;
}
