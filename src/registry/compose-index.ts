// One multi-platform index from images already in registries (the job of `docker buildx imagetools create`):
// each source's manifest (or every entry of a source index) becomes an index entry; sources in another
// repository are copied by digest first (blobs mounted or streamed), then the index goes under every target.
// https://github.com/opencontainers/image-spec/blob/main/image-index.md

import { KbError } from "../errors.ts";
import type { Image } from "../image/image.ts";
import { withDigest, type Reference } from "../image/reference.ts";
import { isIndexMediaType, type Descriptor, type Digest } from "../image/types.ts";
import type { RegistryClient } from "./client.ts";
import { pushImage, pushIndex } from "./push.ts";
import { fetchManifest, readRemote, RemoteImage, resolveIndex } from "./remote-image.ts";
import { assembleIndex, describeImage, isImageIndex } from "../image/assemble-index.ts";

/** An index entry and where its manifest lives. */
interface Entry {
  descriptor: Descriptor;
  from: Reference;
}

async function entriesOf(client: RegistryClient, src: Reference, signal?: AbortSignal): Promise<Entry[]> {
  const top = await resolveIndex(client, src, signal);
  if (top.index) return top.index.manifests.map((d) => ({ descriptor: d, from: withDigest(src, d.digest) }));
  const pinned = withDigest(src, top.digest);
  const image = new RemoteImage(client, pinned, top);
  const config = await image.config();
  if (!config.os || !config.architecture)
    throw new KbError("MANIFEST_INVALID", `Cannot add "${src}" to an index: its config names no os/architecture`, { hint: "Build it with --platform" });
  return [{ descriptor: await describeImage(image), from: pinned }];
}

/** Copies one manifest (image or nested index) by digest into `repo` when it lives elsewhere. */
async function copyInto(client: RegistryClient, repo: Reference, e: Entry, signal?: AbortSignal): Promise<void> {
  if (e.from.name() === repo.name()) return;
  const target = withDigest(repo, e.descriptor.digest);
  const fetched = await fetchManifest(client, e.from, undefined, signal);
  if (!isIndexMediaType(fetched.mediaType)) {
    await pushImage(client, [target], new RemoteImage(client, e.from, fetched), { signal });
    return;
  }
  const nested = await readRemote(client, e.from, signal);
  if (!isImageIndex(nested)) throw new KbError("MANIFEST_INVALID", `Cannot copy "${e.from}": it changed from an index to an image`);
  const images: Image[] = [];
  for (const d of await nested.manifests()) images.push(await nested.image(d.digest));
  await pushIndex(client, [target], nested, images, { signal });
}

/**
 * Creates an index over `sources` and pushes it under every `targets` reference; returns its digest.
 * Entries keep the sources' order; a manifest named twice is listed once.
 * @example await composeIndex(client, [parseReference("r/app:1")], [parseReference("r/app@sha256:…"), parseReference("r/app@sha256:…")])
 */
export async function composeIndex(client: RegistryClient, targets: Reference[], sources: Reference[], signal?: AbortSignal): Promise<{ digest: Digest; bytes: Uint8Array; entries: Descriptor[] }> {
  if (!targets.length) throw new KbError("USAGE", "Cannot create an index: no target", { hint: "pass -t REF" });
  if (!sources.length) throw new KbError("USAGE", "Cannot create an index: no source images", { hint: "kb index create -t REF REF@DIGEST…" });
  const all: Entry[] = [];
  for (const s of sources) for (const e of await entriesOf(client, s, signal)) if (!all.some((x) => x.descriptor.digest === e.descriptor.digest)) all.push(e);
  const index = assembleIndex(all.map((e) => ({ descriptor: e.descriptor })));
  const [bytes, digest] = [await index.rawManifest(), await index.digest()];
  const repos = new Map<string, Reference>();
  for (const t of targets) if (!repos.has(t.name())) repos.set(t.name(), t);
  for (const repo of repos.values()) for (const e of all) await copyInto(client, repo, e, signal);
  const r = await pushIndex(client, targets, index, [], { signal });
  if (r.digest !== digest) throw new KbError("INTERNAL", `Cannot trust the index push: digest "${r.digest}" is not "${digest}"`);
  return { digest, bytes, entries: all.map((e) => e.descriptor) };
}
