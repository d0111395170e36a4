// Checks manifest and index documents from untrusted sources: JSON shape, media type agreement, descriptors.

import { KbError } from "../errors.ts";
import { isDigest, isIndexMediaType, isManifestMediaType, MediaType, type Descriptor, type Index, type Manifest } from "../image/types.ts";

/** The manifest media types kb reads, in Accept order. */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest];

function invalid(subject: string, why: string): KbError {
  return new KbError("MANIFEST_INVALID", `Cannot read manifest of "${subject}": ${why}`, {
    hint: "The registry served a document kb cannot use as an image manifest or index",
  });
}

function checkDescriptor(subject: string, d: unknown, where: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x !== "object") throw invalid(subject, `${where} is not an object`);
  if (typeof x.mediaType !== "string") throw invalid(subject, `${where}.mediaType is missing`);
  if (!isDigest(x.digest)) throw invalid(subject, `${where}.digest "${String(x.digest).slice(0, 80)}" is not sha256:<64 hex>`);
  if (!Number.isSafeInteger(x.size) || x.size < 0) throw invalid(subject, `${where}.size is not a non-negative integer`);
  return x;
}

/** Decides the media type from the Content-Type header and the document, and checks the document. */
export function parseManifestDocument(subject: string, bytes: Uint8Array, contentType: string | null): { mediaType: string; doc: Manifest | Index } {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw invalid(subject, `invalid JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (!j || typeof j !== "object" || Array.isArray(j)) throw invalid(subject, "the document is not a JSON object");
  const header = contentType?.split(";")[0].trim().toLowerCase() || undefined;
  const known = (m: string | undefined) => isIndexMediaType(m) || isManifestMediaType(m);
  let mediaType = known(header) ? header : undefined;
  if (typeof j.mediaType === "string") {
    if (mediaType && j.mediaType !== mediaType) throw invalid(subject, `its mediaType "${j.mediaType}" disagrees with Content-Type "${header}"`);
    mediaType = j.mediaType;
  }
  if (!mediaType && header && header !== "application/json" && header !== "text/plain" && header !== "application/octet-stream")
    mediaType = header;
  if (!mediaType) mediaType = Array.isArray(j.manifests) ? MediaType.OciIndex : j.config ? MediaType.OciManifest : undefined;
  if (!known(mediaType))
    throw invalid(subject, `unsupported media type "${mediaType ?? "none"}" (kb reads ${MANIFEST_ACCEPT.join(", ")})`);
  if (j.schemaVersion !== 2) throw invalid(subject, `schemaVersion is ${JSON.stringify(j.schemaVersion)}, expected 2`);
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(j.manifests)) throw invalid(subject, '"manifests" is not an array');
    j.manifests.forEach((d, i) => checkDescriptor(subject, d, `manifests[${i}]`));
  } else {
    checkDescriptor(subject, j.config, "config");
    if (!Array.isArray(j.layers)) throw invalid(subject, '"layers" is not an array');
    j.layers.forEach((d, i) => checkDescriptor(subject, d, `layers[${i}]`));
  }
  return { mediaType: mediaType!, doc: j as unknown as Manifest | Index };
}
