// Where a built image (or index) goes: one loop over sinks. File outputs first (src/output/index.ts fileFormats),
// then the registry (every tag), then the digest files.

import { KbError } from "../../errors.ts";
import { imageEntries, isImageIndex } from "../../image/assemble-index.ts";
import type { Image, ImageIndex, ImageSink } from "../../image/image.ts";
import { parseReference, withDigest, type Reference } from "../../image/reference.ts";
import type { Descriptor, Digest } from "../../image/types.ts";
import { fileFormatOf } from "../../output/index.ts";
import { registrySink, sourceRepositoryOf, type RegistryClient } from "../../registry/index.ts";
import type { EventSink } from "../../log/events.ts";
import type { BuildOptions } from "../core/options.ts";
import { writeDigestFiles } from "./digest-files.ts";

export interface OutputResult {
  digest: string;
  size: number;
  pushed: string[];
}

/** Registry answers that mean "this tag is immutable" (Kaniko's errTagImmutable, executor/push.go). */
const IMMUTABLE_TAG = ["The repository has enabled tag immutability", "cannot be overwritten because the repository is immutable", "configured as immutable", "TAG_INVALID", "MANIFEST_TAG_IMMUTABLE"];

function isImmutableTagError(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  return IMMUTABLE_TAG.some((c) => text.includes(c));
}

/** Where the push goes: every tag, or with push-by-digest each repository by digest alone (no tag moves). */
export function pushRefs(opts: Pick<BuildOptions, "pushByDigest">, refs: Reference[], digest: string): Reference[] {
  if (!opts.pushByDigest) return refs;
  const seen = new Map<string, Reference>();
  for (const r of refs) if (!seen.has(r.name())) seen.set(r.name(), withDigest(r, digest as Digest));
  return [...seen.values()];
}

/** Validates tags before anything is built, so a typo fails fast. */
export function parseTags(opts: BuildOptions): Reference[] {
  return opts.tags.map((t) => parseReference(t));
}

/** The images of what is written: the image, or every image entry of the index (attestation manifests included). */
async function imagesOf(x: Image | ImageIndex): Promise<Image[]> {
  return isImageIndex(x) ? Promise.all((await imageEntries(x)).map((d) => x.image(d.digest))) : [x];
}

async function imageSize(img: Image): Promise<number> {
  const layers = await Promise.all((await img.layers()).map((l) => l.size()));
  return (await img.rawManifest()).length + (await img.rawConfig()).length + layers.reduce((a, b) => a + b, 0);
}

/** " (index of 2 platforms with attestations)" for an index (entries with annotations are attestations), "" for an image. */
async function indexNote(x: Image | ImageIndex): Promise<string> {
  if (!isImageIndex(x)) return "";
  const all = await imageEntries(x);
  const attestations = all.filter((d) => d.annotations).length;
  return ` (index of ${all.length - attestations} platforms${attestations ? " with attestations" : ""})`;
}

/** Writes to one sink: an index where the sink holds one (a format without writeIndex was refused before the build). */
function writeTo(s: ImageSink, x: Image | ImageIndex, tags: string[], signal: AbortSignal, what: string): Promise<Descriptor> {
  if (!isImageIndex(x)) return s.write(x, { tags, signal });
  if (!s.writeIndex) throw new KbError("USAGE", `Cannot write ${what}: it cannot hold a multi-platform image`, { hint: "write an OCI layout (--oci-layout-path), which holds an index" });
  return s.writeIndex(x, { tags, signal });
}

/**
 * Writes the image, or the multi-platform index, to every output: files first, then the registry under every
 * tag (an index's images by digest first), then the digest files.
 */
export async function writeOutputs(x: Image | ImageIndex, opts: BuildOptions, client: RegistryClient, sink: EventSink, signal: AbortSignal): Promise<OutputResult> {
  const digest = await x.digest();
  const images = await imagesOf(x);
  const sizes = await Promise.all(images.map(imageSize));
  const size = (isImageIndex(x) ? (await x.rawManifest()).length : 0) + sizes.reduce((a, b) => a + b, 0);
  const refs = parseTags(opts);
  const note = await indexNote(x);
  for (const o of opts.outputs) {
    const format = fileFormatOf(o.type);
    if (!format || !("dest" in o)) continue;
    const t0 = performance.now();
    await writeTo(format.sink(o.dest), x, format.buildTags(o.tag, refs), signal, `${format.title} "${o.dest}"`);
    sink.emit({ type: "info", message: `wrote ${format.title} ${o.dest}${note} in ${((performance.now() - t0) / 1000).toFixed(1)}s` });
  }
  const pushed: string[] = [];
  if (refs.length && !opts.noPush) {
    const mountFrom = new Map<string, Reference>();
    for (const img of images) {
      for (const l of await img.layers()) {
        const src = sourceRepositoryOf(l);
        if (src) mountFrom.set(await l.digest(), src);
      }
    }
    const registry = registrySink(client, pushRefs(opts, refs, digest), { mountFrom: (d) => mountFrom.get(d), signal });
    let result: { digest: string };
    try {
      result = await writeTo(registry, x, [], signal, `"${refs[0]}"`);
    } catch (e) {
      if (!isImageIndex(x) && opts.registry.ignoreImmutableTags && isImmutableTagError(e)) {
        sink.emit({ type: "warning", message: `the registry keeps the tag as it is (immutable): ${(e as Error).message}` });
        result = { digest };
      } else if (e instanceof KbError) throw e;
      else throw new KbError("REGISTRY", `Cannot push "${refs[0]}": ${(e as Error).message}`, { cause: e });
    }
    if (result.digest !== digest) throw new KbError("INTERNAL", `Cannot trust the push: registry digest "${result.digest}" is not "${digest}"`);
    pushed.push(...pushRefs(opts, refs, digest).map((r) => r.toString()));
  }
  await writeDigestFiles(opts, refs, digest, isImageIndex(x) ? digest : (await x.manifest()).config.digest);
  return { digest, size, pushed };
}
