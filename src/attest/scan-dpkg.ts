// Debian/Ubuntu packages: /var/lib/dpkg/status and distroless status.d/ files (RFC 822-style paragraphs).

import type { TarEntry } from "../layer/index.ts";
import { readCapped, type VisibleFile } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";

const STATUS = "var/lib/dpkg/status";
const STATUS_D = /^var\/lib\/dpkg\/status\.d\/[^/]+$/;
const MAX = 64 << 20;

/** The fields of each paragraph of a dpkg status-format text (continuation lines dropped). */
export function* parseControlParagraphs(text: string): Generator<Map<string, string>> {
  let cur = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (cur.size) yield cur;
      cur = new Map();
      continue;
    }
    if (line[0] === " " || line[0] === "\t") continue;
    const i = line.indexOf(":");
    if (i > 0) cur.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  if (cur.size) yield cur;
}

/** Scanner of dpkg databases. A package's layer is the lowest layer whose database lists the same version. */
export function dpkgScanner(): Scanner {
  const visible = new Map<string, FoundPackage>();
  return {
    name: "dpkg",
    wants: (path: string, _e: TarEntry) => path === STATUS || (STATUS_D.test(path) && !path.endsWith(".md5sums")),
    wantsHidden: (path: string) => path === STATUS || STATUS_D.test(path),
    async read(file: VisibleFile, body) {
      const bytes = await readCapped(body, MAX);
      if (!bytes) return;
      for (const p of parseControlParagraphs(new TextDecoder().decode(bytes))) {
        const name = p.get("package");
        const version = p.get("version");
        const status = p.get("status");
        if (!name || !version) continue;
        if (file.path === STATUS && !(status ?? "").split(/\s+/).includes("installed")) continue;
        const arch = p.get("architecture");
        const key = `${name}:${arch ?? ""}`;
        const known = visible.get(key);
        if (known) {
          if (known.version === version && file.layer < known.layer) known.layer = file.layer;
          continue;
        }
        if (file.hidden) continue;
        const source = p.get("source")?.split(" ")[0];
        visible.set(key, { type: "deb", name, version, path: file.path, layer: file.layer, qualifiers: arch ? { arch } : undefined, source });
      }
    },
    packages(distro) {
      return [...visible.values()].map((p) => ({
        ...p,
        namespace: distro?.id ?? "debian",
        qualifiers: { ...p.qualifiers, ...(distro ? { distro: `${distro.id}-${distro.versionId ?? ""}`.replace(/-$/, "") } : {}) },
      }));
    },
  };
}
