// Multi-platform builds: one build per --platform (in turn, sharing the store, the context hashes and every
// cache entry that does not depend on the target), then one image index for the registry and OCI layouts.

import { KbError } from "../../errors.ts";
import type { Image } from "../../image/image.ts";
import { formatPlatform, hostPlatform, normalizePlatform } from "../../image/platform.ts";
import { assembleIndex } from "../../image/assemble-index.ts";
import type { Platform } from "../../image/types.ts";
import type { EventSink, KbEvent } from "../../log/events.ts";
import { fileFormatOf, fileFormats } from "../../output/index.ts";
import type { RegistryClient } from "../../registry/index.ts";
import type { BuildOptions } from "./options.ts";
import { writeOutputs, type OutputResult } from "../outputs/outputs.ts";

/**
 * The platforms to build: `--platform` values normalised and without repeats, else this machine's.
 * Throws USAGE for several platforms with an output whose format cannot hold an index (its sink has no writeIndex).
 */
export function targetPlatforms(opts: Pick<BuildOptions, "platforms" | "outputs">): Platform[] {
  const seen = new Map<string, Platform>();
  for (const p of opts.platforms.length ? opts.platforms : [hostPlatform()]) {
    const n = normalizePlatform(p);
    seen.set(formatPlatform(n), n);
  }
  const list = [...seen.values()];
  for (const o of list.length > 1 ? opts.outputs : []) {
    const format = fileFormatOf(o.type);
    if (!format || !("dest" in o) || format.sink(o.dest).writeIndex) continue;
    const oci = fileFormats.oci;
    throw new KbError("USAGE", `Cannot write ${format.title} "${o.dest}" for ${list.length} platforms (${[...seen.keys()].join(", ")}): a ${format.title} holds ${format.holds ?? "no index"}`, {
      hint: `build one --platform per ${format.title} (${format.flag}), or write an ${oci.title} (${oci.flag}), which holds an index`,
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

/**
 * Writes a multi-platform image to every output (engine/outputs' loop): the index over `images` (each with its
 * descriptor annotations: attestation manifests name their image so), assembled once, byte for byte the same in
 * OCI layouts and registries; the index digest in digest files.
 */
export async function writeIndexOutputs(images: Image[], opts: BuildOptions, client: RegistryClient, sink: EventSink, signal: AbortSignal, annotations: (Record<string, string> | undefined)[] = []): Promise<OutputResult> {
  return writeOutputs(assembleIndex(images.map((image, i) => ({ image, annotations: annotations[i] }))), opts, client, sink, signal);
}
