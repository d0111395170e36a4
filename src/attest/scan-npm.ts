// npm packages: node_modules/<name>/package.json (installed) and package-lock.json v2/v3 (locked, when not installed).

import { readText } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";

const INSTALLED = /(^|\/)node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/;
const LOCK = /(^|\/)package-lock\.json$/;
type Rec = [name: string, version: string, license: string];

function licenseOf(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(licenseOf).filter(Boolean).join(" OR ");
  if (v && typeof v === "object" && typeof (v as { type?: unknown }).type === "string") return (v as { type: string }).type;
  return "";
}

function split(full: string): { namespace?: string; name: string } {
  if (full.startsWith("@") && full.includes("/")) return { namespace: full.slice(1, full.indexOf("/")), name: full.slice(full.indexOf("/") + 1) };
  return { name: full };
}

/** Scanner of npm packages. Installed packages win over lock entries of the same name and version. */
export function npmScanner(): Scanner {
  const installed = new Map<string, FoundPackage>();
  const locked = new Map<string, FoundPackage>();
  return {
    name: "npm",
    wants: (path) => INSTALLED.test(path) || (LOCK.test(path) && !path.includes("node_modules/")),
    async parse(path, _e, body) {
      const text = await readText(body, 64 << 20);
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(text ?? "");
      } catch {
        return undefined;
      }
      if (!INSTALLED.test(path)) {
        const out: Rec[] = [];
        for (const [where, p] of Object.entries((doc.packages ?? {}) as Record<string, { version?: string; license?: unknown; name?: string }>)) {
          const full = p?.name ?? /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(where)?.[1];
          if (full && p.version && where) out.push([full, p.version, licenseOf(p.license)]);
        }
        return { lock: out };
      }
      return typeof doc.name === "string" && typeof doc.version === "string" ? { pkg: [doc.name, doc.version, licenseOf(doc.license ?? doc.licenses)] } : undefined;
    },
    add(path, data, layer) {
      const d = data as { lock?: Rec[]; pkg?: Rec };
      for (const [name, version, license] of d.lock ?? (d.pkg ? [d.pkg] : [])) {
        const key = `${name}@${version}`;
        const into = d.pkg ? installed : locked;
        const known = into.get(key);
        if (!known) into.set(key, { type: "npm", ...split(name), version, license: license || undefined, path, layer });
        else if (layer < known.layer) known.layer = layer;
      }
    },
    packages() {
      return [...installed.values(), ...[...locked.entries()].filter(([k]) => !installed.has(k)).map(([, p]) => p)];
    },
  };
}
