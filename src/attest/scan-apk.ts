// Alpine packages: /lib/apk/db/installed (blank-line separated records of one-letter keys).

import { readCapped } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";

const DB = "lib/apk/db/installed";

/** Scanner of the apk database. */
export function apkScanner(): Scanner {
  const visible = new Map<string, FoundPackage>();
  return {
    name: "apk",
    wants: (path) => path === DB,
    wantsHidden: (path) => path === DB,
    async read(file, body) {
      const bytes = await readCapped(body, 64 << 20);
      if (!bytes) return;
      for (const rec of new TextDecoder().decode(bytes).split(/\n\s*\n/)) {
        const f = new Map<string, string>();
        for (const line of rec.split("\n")) if (line[1] === ":") f.set(line[0]!, line.slice(2));
        const name = f.get("P");
        const version = f.get("V");
        if (!name || !version) continue;
        const known = visible.get(name);
        if (known) {
          if (known.version === version && file.layer < known.layer) known.layer = file.layer;
          continue;
        }
        if (file.hidden) continue;
        const arch = f.get("A");
        visible.set(name, { type: "apk", name, version, license: f.get("L"), path: file.path, layer: file.layer, qualifiers: arch ? { arch } : undefined, source: f.get("o") });
      }
    },
    packages(distro) {
      return [...visible.values()].map((p) => ({ ...p, namespace: distro?.id ?? "alpine", qualifiers: { ...p.qualifiers, ...(distro?.versionId ? { distro: `${distro.id}-${distro.versionId}` } : {}) } }));
    },
  };
}
