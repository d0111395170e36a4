// `kb inspect REF --attestations`: the in-toto statements an image index carries in its attestation manifests.

import type { Image } from "../../image/image.ts";
import type { Descriptor, Index } from "../../image/types.ts";
import { ATTESTATION_MANIFEST, PREDICATE_TYPE_ANNOTATION, REFERENCE_DIGEST, REFERENCE_TYPE } from "../../attest/in-toto.ts";
import { readCapped } from "../../attest/layer-walk.ts";

/** One statement found, with a short summary of what it says. */
export interface FoundAttestation {
  /** The image (manifest digest) it is about. */
  for: string;
  platform?: string;
  predicateType: string;
  digest: string;
  size: number;
  summary: string;
  statement?: unknown;
}

function summarize(st: Record<string, any>): string {
  const p = st.predicate ?? {};
  if (st.predicateType === "https://spdx.dev/Document") {
    const counts = new Map<string, number>();
    for (const pkg of p.packages ?? []) {
      const purl: string | undefined = pkg.externalRefs?.find((r: any) => r.referenceType === "purl")?.referenceLocator;
      const type = purl ? /^pkg:([^/]+)/.exec(purl)?.[1] ?? "other" : "other";
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    return `SPDX ${p.spdxVersion ?? "?"} "${p.name ?? ""}": ${(p.packages ?? []).length} packages (${[...counts].map(([k, v]) => `${k} ${v}`).join(", ")})`;
  }
  if (String(st.predicateType).startsWith("https://slsa.dev/provenance/")) {
    const deps = (p.buildDefinition?.resolvedDependencies ?? []).map((d: any) => d.uri ?? d.name).join(", ");
    return `SLSA provenance by ${p.runDetails?.builder?.id ?? "?"}; depends on ${deps || "nothing recorded"}`;
  }
  return `${(st.subject ?? []).length} subject(s)`;
}

/**
 * The attestations in `index` (BuildKit's layout: manifests annotated vnd.docker.reference.type=attestation-manifest).
 * `open` reads a manifest of the index as an Image. Statements larger than 64 MiB are listed, not parsed.
 */
export async function listAttestations(index: Index | undefined, open: (d: Descriptor) => Promise<Image>, withStatements: boolean): Promise<FoundAttestation[]> {
  const out: FoundAttestation[] = [];
  const platformOf = new Map<string, string>((index?.manifests ?? []).filter((m) => m.platform).map((m) => [m.digest, `${m.platform!.os}/${m.platform!.architecture}${m.platform!.variant ? `/${m.platform!.variant}` : ""}`]));
  for (const d of index?.manifests ?? []) {
    if (d.annotations?.[REFERENCE_TYPE] !== ATTESTATION_MANIFEST) continue;
    const img = await open(d);
    const manifest = await img.manifest();
    for (const l of manifest.layers) {
      const bytes = await readCapped(await (await img.layerByDigest(l.digest)).compressed(), 64 << 20);
      let st: Record<string, any> = {};
      try {
        st = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : {};
      } catch {}
      const target = d.annotations[REFERENCE_DIGEST] ?? "";
      out.push({
        for: target,
        platform: platformOf.get(target),
        predicateType: l.annotations?.[PREDICATE_TYPE_ANNOTATION] ?? st.predicateType ?? "unknown",
        digest: l.digest,
        size: l.size,
        summary: bytes ? summarize(st) : "too large to read",
        ...(withStatements ? { statement: st } : {}),
      });
    }
  }
  return out;
}

/** Text lines for `kb inspect --attestations`. */
export function renderAttestations(name: string, list: FoundAttestation[]): string {
  if (!list.length) return `${name}: no attestations (build with --sbom and/or --provenance to attach them)\n`;
  return list.map((a) => `${a.platform ?? a.for}  ${a.predicateType}\n  ${a.summary}\n  ${a.digest} (${a.size} bytes)\n`).join("");
}
