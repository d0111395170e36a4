// Python distributions: *.dist-info/METADATA (wheels) and *.egg-info/PKG-INFO or *.egg-info files (core metadata).

import { readText } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";

const META = /(^|\/)[^/]+\.dist-info\/METADATA$|(^|\/)[^/]+\.egg-info\/PKG-INFO$|(^|\/)[^/]+\.egg-info$/;

/** PEP 503 normalised name, as purl's pypi type wants it. */
export const normalizePyName = (n: string) => n.toLowerCase().replace(/[-_.]+/g, "-");

/** The license a core-metadata header block declares: License-Expression, License, else the classifiers. */
function licenseOf(h: Map<string, string[]>): string {
  const expr = h.get("license-expression")?.[0];
  if (expr) return expr;
  const lic = h.get("license")?.[0];
  if (lic && lic.length < 100 && lic !== "UNKNOWN") return lic;
  return (h.get("classifier") ?? []).filter((c) => c.startsWith("License ::")).map((c) => c.split("::").pop()!.trim()).join(" AND ");
}

/** Scanner of Python package metadata. */
export function pythonScanner(): Scanner {
  const found = new Map<string, FoundPackage>();
  return {
    name: "python",
    wants: (path) => META.test(path),
    async parse(_path, _e, body) {
      const text = await readText(body, 4 << 20);
      if (text === undefined) return undefined;
      const h = new Map<string, string[]>();
      for (const line of text.split("\n")) {
        if (line.trim() === "") break; // the description follows the first blank line
        const i = line.indexOf(":");
        if (i <= 0 || line[0] === " " || line[0] === "\t") continue;
        const k = line.slice(0, i).toLowerCase();
        h.set(k, [...(h.get(k) ?? []), line.slice(i + 1).trim()]);
      }
      const name = h.get("name")?.[0];
      const version = h.get("version")?.[0];
      return name && version ? [normalizePyName(name), version, licenseOf(h)] : undefined;
    },
    add(path, data, layer) {
      const [name, version, license] = data as [string, string, string];
      const key = `${name}@${version}`;
      const known = found.get(key);
      if (!known) found.set(key, { type: "pypi", name, version, license: license || undefined, path, layer });
      else if (layer < known.layer) known.layer = layer;
    },
    packages: () => [...found.values()],
  };
}
