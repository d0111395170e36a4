// Image references: "busybox" → docker.io/library/busybox:latest, with the distribution/reference grammar.
// https://github.com/distribution/reference/blob/main/reference.go

import { KbError } from "../errors.ts";
import type { Digest } from "./types.ts";

/** A parsed image reference. `registry` is normalised ("docker.io", never "index.docker.io"). */
export interface Reference {
  /** Registry host[:port] as the user means it ("docker.io", "localhost:5000", "[::1]:5000"). */
  registry: string;
  /** Repository path inside the registry ("library/busybox"). */
  repository: string;
  tag?: string;
  digest?: Digest;
  /** Canonical text: `registry/repository[:tag][@digest]`. */
  toString(): string;
  /** `registry/repository`, without tag or digest. */
  name(): string;
}

/** Options of {@link parseReference}. */
export interface ParseReferenceOptions {
  /** Tag used when neither a tag nor a digest is given. @default "latest" */
  defaultTag?: string;
  /** Registry used when the text names none. @default "docker.io" */
  defaultRegistry?: string;
}

/** The Docker Hub name kb uses for references. */
export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

function invalid(s: string, reason: string, hint?: string): KbError {
  return new KbError("REFERENCE_INVALID", `Cannot parse image reference "${s.slice(0, 300)}": ${reason}`, {
    hint: hint ?? 'Write it as [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. "docker.io/library/busybox:1.36"',
  });
}

function checkRegistry(s: string, host: string): void {
  let h = host;
  let port: string | undefined;
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    if (end < 0 || !/^[0-9A-Fa-f:.]+$/.test(h.slice(1, end))) throw invalid(s, `registry "${host}" is not a valid IPv6 address`);
    const rest = h.slice(end + 1);
    if (rest && !/^:\d{1,5}$/.test(rest)) throw invalid(s, `registry "${host}" has an invalid port`);
    return;
  }
  const colon = h.lastIndexOf(":");
  if (colon >= 0) {
    port = h.slice(colon + 1);
    h = h.slice(0, colon);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw invalid(s, `registry "${host}" has an invalid port "${port}"`);
  }
  if (!h || !h.split(".").every((l) => HOST_LABEL.test(l))) throw invalid(s, `registry "${host}" is not a valid host name`);
}

function makeReference(registry: string, repository: string, tag?: string, digest?: Digest): Reference {
  return {
    registry,
    repository,
    tag,
    digest,
    name: () => `${registry}/${repository}`,
    toString: () => `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`,
  };
}

/** True when the first path component of a reference names a registry rather than a repository. */
function looksLikeRegistry(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[") || first !== first.toLowerCase();
}

/**
 * Parses an image reference, normalising Docker Hub names.
 * @example parseReference("busybox").toString() // "docker.io/library/busybox:latest"
 * @throws KbError REFERENCE_INVALID with the reason
 */
export function parseReference(s: string, opts: ParseReferenceOptions = {}): Reference {
  if (typeof s !== "string" || s.length === 0) throw invalid(String(s), "the reference is empty");
  if (s.length > 1024) throw invalid(s, "the reference is longer than 1024 characters");
  if (/\s/.test(s)) throw invalid(s, "it contains whitespace");
  let rest = s;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!DIGEST.test(d)) throw invalid(s, `digest "${d}" is not sha256:<64 lowercase hex>`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(s, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  if (!rest) throw invalid(s, "the repository name is empty");
  const parts = rest.split("/");
  let registry = opts.defaultRegistry ?? DOCKER_HUB;
  if (parts.length > 1 && looksLikeRegistry(parts[0])) {
    registry = parts.shift()!;
    checkRegistry(s, registry);
  }
  if (DOCKER_HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  for (const p of parts) {
    if (p === "") throw invalid(s, "the repository has an empty path component");
    if (p !== p.toLowerCase() && COMPONENT.test(p.toLowerCase()))
      throw invalid(s, `repository name "${parts.join("/")}" must be lowercase`, `Use "${parts.join("/").toLowerCase()}"`);
    if (!COMPONENT.test(p)) throw invalid(s, `repository path component "${p}" must match [a-z0-9]+((.|_|__|-+)[a-z0-9]+)*`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (registry.length + 1 + repository.length > 255) throw invalid(s, "the name is longer than 255 characters");
  if (!tag && !digest) tag = opts.defaultTag ?? "latest";
  return makeReference(registry, repository, tag, digest);
}

/** The same repository with another tag (and no digest). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG.test(tag)) throw invalid(`${ref.name()}:${tag}`, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  return makeReference(ref.registry, ref.repository, tag, undefined);
}

/** The same repository pinned to a digest (and no tag). */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return makeReference(ref.registry, ref.repository, undefined, digest);
}

/** The host to talk HTTP to: Docker Hub's API lives at "registry-1.docker.io". */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/** The tag or digest to put in a `/manifests/<reference>` URL (the digest wins). */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? "latest";
}
