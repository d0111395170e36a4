// npm packages: node_modules/<name>/package.json (installed) and package-lock.json v2/v3 (locked, when not installed).

import { readCapped } from "./layer-walk.ts";
import type { FoundPackage, Scanner } from "./package.ts";

const INSTALLED = /(^|\/)node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/;
const LOCK = /(^|\/)package-lock\.json$/;

function licenseOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { type?: unknown }).type === "string") return (v as { type: string }).type;
  if (Array.isArray(v)) return v.map(licenseOf).filter(Boolean).join(" OR ") || undefined;
  return undefined;
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
    async read(file, body) {
      const bytes = await readCapped(body, 64 << 20);
      if (!bytes) return;
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        return;
      }
      if (LOCK.test(file.path) && !INSTALLED.test(file.path)) {
        const pkgs = doc.packages as Record<string, { version?: string; license?: unknown; name?: string }> | undefined;
        for (const [where, p] of Object.entries(pkgs ?? {})) {
          const m = /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(where);
          const full = p.name ?? m?.[1];
          if (!full || !p.version || !where) continue;
          const key = `${full}@${p.version}`;
          if (!locked.has(key)) locked.set(key, { type: "npm", ...split(full), version: p.version, license: licenseOf(p.license), path: file.path, layer: file.layer });
        }
        return;
      }
      const name = typeof doc.name === "string" ? doc.name : undefined;
      const version = typeof doc.version === "string" ? doc.version : undefined;
      if (!name || !version) return;
      const key = `${name}@${version}`;
      const known = installed.get(key);
      if (!known || file.layer < known.layer) installed.set(key, { type: "npm", ...split(name), version, license: licenseOf(doc.license ?? doc.licenses), path: file.path, layer: known ? Math.min(known.layer, file.layer) : file.layer });
    },
    packages() {
      return [...installed.values(), ...[...locked.entries()].filter(([k]) => !installed.has(k)).map(([, p]) => p)];
    },
  };
}
