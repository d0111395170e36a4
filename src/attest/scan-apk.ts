// Alpine packages: /lib/apk/db/installed (blank-line separated records of one-letter keys).

import { readText } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";

const DB = "lib/apk/db/installed";
type Rec = [name: string, version: string, arch: string, license: string, origin: string];

/** Scanner of the apk database. */
export function apkScanner(): Scanner {
  const visible = new Map<string, FoundPackage>();
  return {
    name: "apk",
    keepsHidden: true,
    wants: (path) => path === DB,
    async parse(_path, _e, body) {
      const text = await readText(body, 64 << 20);
      if (text === undefined) return undefined;
      const out: Rec[] = [];
      for (const rec of text.split(/\n\s*\n/)) {
        const f = new Map<string, string>();
        for (const line of rec.split("\n")) if (line[1] === ":") f.set(line[0]!, line.slice(2));
        if (f.get("P") && f.get("V")) out.push([f.get("P")!, f.get("V")!, f.get("A") ?? "", f.get("L") ?? "", f.get("o") ?? ""]);
      }
      return out;
    },
    add(path, data, layer, hidden) {
      for (const [name, version, arch, license, origin] of data as Rec[]) {
        const known = visible.get(name);
        if (known) {
          if (known.version === version && layer < known.layer) known.layer = layer;
          continue;
        }
        if (hidden) continue;
        visible.set(name, { type: "apk", name, version, license: license || undefined, path, layer, qualifiers: arch ? { arch } : undefined, source: origin || undefined });
      }
    },
    packages(distro) {
      return [...visible.values()].map((p) => ({ ...p, namespace: distro?.id ?? "alpine", qualifiers: { ...p.qualifiers, ...(distro?.versionId ? { distro: `${distro.id}-${distro.versionId}` } : {}) } }));
    },
  };
}
