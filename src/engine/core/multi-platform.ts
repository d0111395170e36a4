// Multi-platform builds: one build per --platform (in turn, sharing the store, the context hashes and every
// cache entry that does not depend on the target), then one image index for the registry and OCI layouts.

import { writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { KbError } from "../../errors.ts";
import type { Image } from "../../image/image.ts";
import { formatPlatform, hostPlatform, normalizePlatform } from "../../image/platform.ts";
import type { Reference } from "../../image/reference.ts";
import { MediaType, type Descriptor, type Digest, type Platform } from "../../image/types.ts";
import type { EventSink, KbEvent } from "../../log/events.ts";
import { writeOciIndex } from "../../output/index.ts";
import { pushIndex, sourceRepositoryOf, type RegistryClient } from "../../registry/index.ts";
import type { BuildOptions } from "./options.ts";
import { writeDigestFiles } from "../outputs/digest-files.ts";
import { parseTags, pushRefs, type OutputResult } from "../outputs/outputs.ts";

/**
 * The platforms to build: `--platform` values normalised and without repeats, else this machine's.
 * Throws USAGE for several platforms with a docker-archive output (a docker archive holds one image per tag).
 */
export function targetPlatforms(opts: Pick<BuildOptions, "platforms" | "outputs">): Platform[] {
  const seen = new Map<string, Platform>();
  for (const p of opts.platforms.length ? opts.platforms : [hostPlatform()]) {
    const n = normalizePlatform(p);
    seen.set(formatPlatform(n), n);
  }
  const list = [...seen.values()];
  const docker = opts.outputs.find((o) => o.type === "docker");
  if (list.length > 1 && docker) {
    throw new KbError("USAGE", `Cannot write docker archive "${docker.dest}" for ${list.length} platforms (${[...seen.keys()].join(", ")}): a docker archive holds one image per tag`, {
      hint: "build one --platform per docker archive (--tar-path), or write an OCI layout (--oci-layout-path), which holds an index",
    });
  }
  return list;
}

/** A sink that tags each stage name with the platform ("linux/arm64 build"), so interleaved logs stay readable. */
export function platformSink(sink: EventSink, platform: Platform): EventSink {
  const tag = formatPlatform(platform);
  return {
    emit(ev: KbEvent) {
      sink.emit("stage" in ev ? { ...ev, stage: `${tag} ${ev.stage}` } : ev.type === "info" && /^RUN via /.test(ev.message) ? { ...ev, message: `${tag}: ${ev.message}` } : ev);
    },
  };
}

/**
 * Runs `one` for every platform in turn (two cores: in parallel they would only contend), each with a sink that
 * names its platform when there are several. Later platforms reuse what earlier ones stored (base layers,
 * build-platform stages, context hashes).
 */
export async function forEachPlatform<T>(platforms: Platform[], sink: EventSink, one: (platform: Platform, sink: EventSink, index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const [i, p] of platforms.entries()) {
    if (platforms.length > 1) sink.emit({ type: "info", message: `platform ${formatPlatform(p)} (${i + 1}/${platforms.length})` });
    out.push(await one(p, platforms.length > 1 ? platformSink(sink, p) : sink, i));
  }
  return out;
}

/** A built image's descriptor in an index, with the platform from its config. */
async function describe(img: Image): Promise<Descriptor> {
  const config = await img.config();
  const raw = await img.rawManifest();
  const platform = { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) };
  return { mediaType: await img.mediaType(), digest: await img.digest(), size: raw.length, platform };
}

/**
 * The index over per-platform images, byte for byte as writeOciIndex writes it (so registry and layout agree):
 * an OCI image index, or a Docker manifest list when every image is a Docker manifest.
 */
export async function buildIndex(images: Image[], annotations: (Record<string, string> | undefined)[] = []): Promise<{ bytes: Uint8Array; digest: Digest; mediaType: string }> {
  const manifests = (await Promise.all(images.map(describe))).map((d, i) => (annotations[i] ? { ...d, annotations: annotations[i] } : d));
  const docker = manifests.every((m) => m.mediaType === MediaType.DockerManifest);
  const mediaType = docker ? MediaType.DockerManifestList : MediaType.OciIndex;
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, mediaType };
}

async function imageSize(img: Image): Promise<number> {
  const layers = await Promise.all((await img.layers()).map((l) => l.size()));
  return (await img.rawManifest()).length + (await img.rawConfig()).length + layers.reduce((a, b) => a + b, 0);
}

/**
 * Writes a multi-platform image to every output: an index in OCI layouts, the images by digest then the index
 * under every tag in registries, and the index digest in digest files. Registry pushes come last.
 */
export async function writeIndexOutputs(images: Image[], opts: BuildOptions, client: RegistryClient, sink: EventSink, signal: AbortSignal, annotations: (Record<string, string> | undefined)[] = []): Promise<OutputResult> {
  const { bytes, digest, mediaType } = await buildIndex(images, annotations);
  const size = bytes.length + (await Promise.all(images.map(imageSize))).reduce((a, b) => a + b, 0);
  const refs = parseTags(opts);
  for (const o of opts.outputs) {
    if (o.type !== "oci") continue;
    const t0 = performance.now();
    const d = mediaType === MediaType.OciIndex ? await writeOciIndex(o.dest, images, { tag: o.tag ?? refs[0]?.tag ?? "latest", signal, annotations }) : undefined;
    if (d && d.digest !== digest) throw new KbError("INTERNAL", `Cannot trust OCI layout "${o.dest}": its index digest "${d.digest}" is not "${digest}"`);
    if (!d) throw new KbError("OUTPUT", `Cannot write OCI layout "${o.dest}": the images use Docker media types`, { hint: "build with OCI media types" });
    sink.emit({ type: "info", message: `wrote OCI layout ${o.dest} (index of ${images.length - annotations.filter(Boolean).length} platforms${annotations.some(Boolean) ? " with attestations" : ""}) in ${((performance.now() - t0) / 1000).toFixed(1)}s` });
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
    try {
      const r = await pushIndex(client, pushRefs(opts, refs, digest), bytes, images, { mountFrom: (d) => mountFrom.get(d), signal });
      if (r.digest !== digest) throw new KbError("INTERNAL", `Cannot trust the push: registry digest "${r.digest}" is not "${digest}"`);
    } catch (e) {
      if (e instanceof KbError) throw e;
      throw new KbError("REGISTRY", `Cannot push "${refs[0]}": ${(e as Error).message}`, { cause: e });
    }
    pushed.push(...pushRefs(opts, refs, digest).map((r) => r.toString()));
  }
  await writeDigestFiles(opts, refs, digest);
  return { digest, size, pushed };
}
