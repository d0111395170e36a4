// Where a built image goes: registries (every tag), OCI layouts, docker archives, digest files.

import { writeFile } from "node:fs/promises";
import { KbError } from "../../errors.ts";
import type { Image } from "../../image/image.ts";
import { parseReference, withDigest, type Reference } from "../../image/reference.ts";
import type { Descriptor, Digest } from "../../image/types.ts";
import { writeDockerArchive, writeOciLayout } from "../../output/index.ts";
import { pushImage, sourceRepositoryOf, type RegistryClient } from "../../registry/index.ts";
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

/** Writes the image to every output. Registry pushes come last, after the file outputs succeeded. */
export async function writeOutputs(img: Image, opts: BuildOptions, client: RegistryClient, sink: EventSink, signal: AbortSignal): Promise<OutputResult> {
  const digest = await img.digest();
  const size = (await img.rawManifest()).length + (await img.rawConfig()).length + (await Promise.all((await img.layers()).map((l) => l.size()))).reduce((a, b) => a + b, 0);
  const refs = parseTags(opts);
  for (const o of opts.outputs) {
    const t0 = performance.now();
    if (o.type === "oci") {
      await writeOciLayout(o.dest, img, { tag: o.tag ?? refs[0]?.tag ?? "latest", signal });
      sink.emit({ type: "info", message: `wrote OCI layout ${o.dest} in ${((performance.now() - t0) / 1000).toFixed(1)}s` });
    } else if (o.type === "docker") {
      const tags = o.tag ? [o.tag] : refs.map((r) => r.toString());
      await writeDockerArchive(o.dest, img, { tags, signal });
      sink.emit({ type: "info", message: `wrote docker archive ${o.dest} in ${((performance.now() - t0) / 1000).toFixed(1)}s` });
    }
  }
  const pushed: string[] = [];
  if (refs.length && !opts.noPush) {
    const mountFrom = new Map<string, Reference>();
    for (const l of await img.layers()) {
      const src = sourceRepositoryOf(l);
      if (src) mountFrom.set(await l.digest(), src);
    }
    let result: Descriptor | { digest: string; size: number };
    try {
      result = await pushImage(client, pushRefs(opts, refs, digest), img, { mountFrom: (d) => mountFrom.get(d), signal });
    } catch (e) {
      if (opts.registry.ignoreImmutableTags && isImmutableTagError(e)) {
        sink.emit({ type: "warning", message: `the registry keeps the tag as it is (immutable): ${(e as Error).message}` });
        result = { digest, size: 0 };
      } else if (e instanceof KbError) throw e;
      else throw new KbError("REGISTRY", `Cannot push "${refs[0]}": ${(e as Error).message}`, { cause: e });
    }
    if (result.digest !== digest) throw new KbError("INTERNAL", `Cannot trust the push: registry digest "${result.digest}" is not "${digest}"`);
    pushed.push(...pushRefs(opts, refs, digest).map((r) => r.toString()));
  }
  await writeDigestFiles(opts, refs, digest);
  return { digest, size, pushed };
}
