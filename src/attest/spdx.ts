// SPDX 2.3 JSON documents (https://spdx.github.io/spdx-spec/v2.3/) from the packages kb's scanners found.

import { createHash } from "node:crypto";
import type { FoundPackage } from "./package.ts";
import { purlOf } from "./package.ts";
import { SPDX_EXCEPTION_IDS, SPDX_LICENSE_IDS } from "./_license-ids.ts";

/** What the document describes. */
export interface SpdxSubject {
  /** Image name (the first tag) or "image". */
  name: string;
  /** Manifest digest of the image. */
  digest: string;
  /** diffIDs (or blob digests) of the image's layers, base-most first, to name where packages came from. */
  layers: string[];
  /** The base image of the final stage, when it is a registry image. */
  base?: { ref: string; digest: string };
}

/** Options of {@link spdxDocument}. */
export interface SpdxOptions {
  /** creationInfo.created (ISO 8601, whole seconds). */
  created: string;
  /** "kb-0.3.0". */
  tool: string;
}

type Json = Record<string, unknown>;

const idPart = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, "-").slice(0, 120);

/**
 * A declared license as a valid SPDX expression: known ids and AND/OR/WITH stay; anything else becomes a
 * LicenseRef, whose text is returned in `extracted` (the document must define every LicenseRef it uses).
 */
export function toLicenseExpression(text: string | undefined, extracted: Map<string, string>): string {
  if (!text) return "NOASSERTION";
  const t = text.trim().replace(/^\((.*)\)$/, "$1");
  const tokens = t.split(/\s+/);
  const ok = tokens.every((tok, i) => {
    const bare = tok.replace(/^\(+|\)+$/g, "");
    if (i % 2 === 1) return /^(AND|OR|WITH)$/.test(tok);
    return tokens[i - 1] === "WITH" ? SPDX_EXCEPTION_IDS.has(bare) : SPDX_LICENSE_IDS.has(bare);
  });
  if (ok && tokens.length % 2 === 1) return t;
  const ref = `LicenseRef-${idPart(t)}`;
  extracted.set(ref, t);
  return ref;
}

/**
 * The SPDX 2.3 document of an image: the image as the described package, every found package CONTAINED by it
 * (name, version, purl, declared license, and in sourceInfo the file and layer it came from), and the base
 * image as a package with its digest, which the image is DESCENDANT_OF.
 * @example const doc = spdxDocument({ name: "app:1", digest, layers }, pkgs, { created: "2024-01-01T00:00:00Z", tool: "kb-0.3.0" })
 */
export function spdxDocument(subject: SpdxSubject, pkgs: FoundPackage[], opts: SpdxOptions): Json {
  const extracted = new Map<string, string>();
  const packages: Json[] = [];
  const relationships: Json[] = [{ spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-image" }];
  const hex = subject.digest.replace(/^sha256:/, "");
  packages.push({
    name: subject.name,
    SPDXID: "SPDXRef-image",
    versionInfo: subject.digest,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    checksums: [{ algorithm: "SHA256", checksumValue: hex }],
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    copyrightText: "NOASSERTION",
    primaryPackagePurpose: "CONTAINER",
  });
  if (subject.base) {
    const name = subject.base.ref.replace(/@sha256:[0-9a-f]+$/, "");
    const repo = name.replace(/:[^/:]+$/, "");
    packages.push({
      name,
      SPDXID: "SPDXRef-base-image",
      versionInfo: subject.base.digest,
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      checksums: [{ algorithm: "SHA256", checksumValue: subject.base.digest.replace(/^sha256:/, "") }],
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      copyrightText: "NOASSERTION",
      primaryPackagePurpose: "CONTAINER",
      externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: `pkg:oci/${encodeURIComponent(repo.split("/").pop()!)}@${encodeURIComponent(subject.base.digest)}?repository_url=${encodeURIComponent(repo)}` }],
    });
    relationships.push({ spdxElementId: "SPDXRef-image", relationshipType: "DESCENDANT_OF", relatedSpdxElement: "SPDXRef-base-image" });
  }
  const ids = new Set<string>();
  for (const p of pkgs) {
    const purl = purlOf(p);
    let id = `SPDXRef-${p.type}-${idPart(`${p.namespace ? `${p.namespace}-` : ""}${p.name}-${p.version}`)}`;
    for (let n = 2; ids.has(id); n++) id = id.replace(/(-\d+)?$/, `-${n}`);
    ids.add(id);
    const layer = subject.layers[p.layer];
    packages.push({
      name: p.namespace && p.type === "npm" ? `@${p.namespace}/${p.name}` : p.name,
      SPDXID: id,
      versionInfo: p.version,
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: toLicenseExpression(p.license, extracted),
      copyrightText: "NOASSERTION",
      sourceInfo: `found in /${p.path} of layer ${p.layer + 1} (${layer ?? "unknown"})`,
      externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: purl }],
      ...(p.source && p.type !== "golang" ? { comment: `source: ${p.source}` } : {}),
    });
    relationships.push({ spdxElementId: "SPDXRef-image", relationshipType: "CONTAINS", relatedSpdxElement: id });
  }
  const seed = createHash("sha256").update(`${subject.digest}\n${pkgs.length}`).digest("hex").slice(0, 32);
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `sbom-${subject.name}`,
    documentNamespace: `https://kb.invalid/spdx/${hex}/${seed}`,
    creationInfo: { created: opts.created, creators: [`Tool: ${opts.tool}`] },
    packages,
    relationships,
    ...(extracted.size ? { hasExtractedLicensingInfos: [...extracted].map(([licenseId, extractedText]) => ({ licenseId, extractedText, name: extractedText.slice(0, 80) })) } : {}),
  };
}
