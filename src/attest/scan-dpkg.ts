// Debian/Ubuntu packages: /var/lib/dpkg/status and distroless status.d/ files (RFC 822-style paragraphs).

import { readText } from "./layer-walk.ts";
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

type Rec = [name: string, version: string, arch: string, source: string];

/** Scanner of dpkg databases. A package's layer is the lowest layer whose database lists the same version. */
export function dpkgScanner(): Scanner {
  const visible = new Map<string, FoundPackage>();
  return {
    name: "dpkg",
    keepsHidden: true,
    wants: (path) => path === STATUS || (STATUS_D.test(path) && !path.endsWith(".md5sums")),
    async parse(path, _e, body) {
      const text = await readText(body, MAX);
      if (text === undefined) return undefined;
      const out: Rec[] = [];
      for (const p of parseControlParagraphs(text)) {
        const name = p.get("package");
        const version = p.get("version");
        if (!name || !version) continue;
        if (path === STATUS && !(p.get("status") ?? "").split(/\s+/).includes("installed")) continue;
        out.push([name, version, p.get("architecture") ?? "", p.get("source")?.split(" ")[0] ?? ""]);
      }
      return out;
    },
    add(path, data, layer, hidden) {
      for (const [name, version, arch, source] of data as Rec[]) {
        const key = `${name}:${arch}`;
        const known = visible.get(key);
        if (known) {
          if (known.version === version && layer < known.layer) known.layer = layer;
          continue;
        }
        if (hidden) continue;
        visible.set(key, { type: "deb", name, version, path, layer, qualifiers: arch ? { arch } : undefined, source: source || undefined });
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
