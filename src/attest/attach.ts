// After a build: the SBOM and provenance statements of each platform's image, in its attestation manifest.

import { KbError } from "../errors.ts";
import type { Image } from "../image/image.ts";
import { assembleImage } from "../image/assemble.ts";
import type { Digest, ImageConfig, Platform } from "../image/types.ts";
import type { EventSink } from "../log/events.ts";
import { fileFormatOf, fileFormats } from "../output/index.ts";
import { versionInfo } from "../version.ts";
import { contextDependency, fileSha256 } from "./context-source.ts";
import { attestationDescriptorAnnotations, attestationManifest, SLSA_V1_PREDICATE, SPDX_PREDICATE, statement, type Attestation } from "./in-toto.ts";
import type { AttestOptions } from "./options.ts";
import { provenancePredicate } from "./provenance.ts";
import { imageSbom } from "./sbom.ts";
import type { LayerScanCache } from "./layer-walk.ts";

/** A finished stage as the attestations need it (a subset of the engine's StageState). */
export interface StageView {
  name: string;
  index: number;
  config: ImageConfig;
  layers: { layer: import("../image/image.ts").Layer }[];
  history: import("../image/types.ts").HistoryEntry[];
  baseImage?: { ref: string; digest: string };
}

/** One platform's build: the image, the target stage and every stage built for it. */
export interface BuiltPlatform {
  image: Image;
  platform: Platform;
  target: StageView;
  stages: StageView[];
}

/** What the attestations are made from, besides the images. */
export interface AttestContext {
  attest: AttestOptions;
  /** First tag (names the subject), else "image". */
  name: string;
  dockerfile: { given: string; real: string };
  contextSpec: string;
  target?: string;
  buildArgs: Map<string, string>;
  secretIds: string[];
  startedOn: Date;
  /** SOURCE_DATE_EPOCH in seconds, when the build is reproducible: used for every time in the statements. */
  sourceDateEpoch?: number;
  reproducible: boolean;
  sink: EventSink;
  timings: Map<string, number>;
  env: Record<string, string | undefined>;
  /** Layer scans from earlier builds (see storeScanCache). */
  scanCache?: LayerScanCache;
  signal?: AbortSignal;
}

const platformName = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;

/** The subject name BuildKit writes: pkg:docker/NAME@TAG?platform=OS%2FARCH. */
function subjectName(name: string, p: Platform): string {
  const m = /^(.*?)(?::([^:/]+))?$/.exec(name)!;
  return `pkg:docker/${m[1]}${m[2] ? `@${m[2]}` : ""}?platform=${encodeURIComponent(platformName(p))}`;
}

/**
 * Builds each platform's attestation manifest and returns the list to put in the index: image, attestation,
 * image, attestation…, with the index annotations of each entry. Records the time spent in `timings`.
 */
export async function attachAttestations(built: BuiltPlatform[], ctx: AttestContext): Promise<{ images: Image[]; annotations: (Record<string, string> | undefined)[] }> {
  const images: Image[] = [];
  const annotations: (Record<string, string> | undefined)[] = [];
  const v = versionInfo();
  const time = (d: Date) => (ctx.sourceDateEpoch !== undefined ? new Date(ctx.sourceDateEpoch * 1000) : d);
  const created = time(new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const dockerfileSha = ctx.attest.provenance ? await fileSha256(ctx.dockerfile.real) : "";
  const context = ctx.attest.provenance ? await contextDependency(ctx.contextSpec) : undefined;
  for (const b of built) {
    const digest = (await b.image.digest()) as Digest;
    const subject = [{ name: subjectName(ctx.name, b.platform), digest }];
    const atts: Attestation[] = [];
    if (ctx.attest.sbom) {
      const t0 = performance.now();
      const { doc, walk } = await imageSbom(b.image, { name: ctx.name, base: b.target.baseImage, created, tool: `kb-${v.version}`, signal: ctx.signal, cache: ctx.scanCache });
      let read = walk.layersRead;
      atts.push({ predicateType: SPDX_PREDICATE, statement: statement(SPDX_PREDICATE, subject, doc) });
      let n = (doc.packages as unknown[]).length;
      if (ctx.attest.sbom.allStages) {
        for (const st of b.stages) {
          if (st.index === b.target.index) continue;
          const img = assembleImage({ config: st.config, layers: st.layers.map((l) => l.layer), mediaTypes: "oci" });
          const { doc: sdoc, walk: sw } = await imageSbom(img, { name: `stage ${st.name}`, base: st.baseImage, created, tool: `kb-${v.version}`, signal: ctx.signal, cache: ctx.scanCache });
          read += sw.layersRead;
          n += (sdoc.packages as unknown[]).length;
          atts.push({ predicateType: SPDX_PREDICATE, statement: statement(SPDX_PREDICATE, subject, sdoc) });
        }
      }
      const ms = performance.now() - t0;
      ctx.timings.set("sbom", (ctx.timings.get("sbom") ?? 0) + ms);
      const bg = ctx.scanCache?.backgroundMs?.() ?? 0;
      if (bg) ctx.timings.set("sbom: base layers scanned during the build", bg);
      ctx.sink.emit({ type: "info", message: `SBOM of ${platformName(b.platform)}: ${n} packages in ${(ms / 1000).toFixed(2)}s (${read} layer(s) read, the rest from earlier scans)` });
    }
    if (ctx.attest.provenance) {
      const t0 = performance.now();
      const predicate = provenancePredicate({
        mode: ctx.attest.provenance.mode,
        builder: { id: ctx.env.KB_BUILDER_ID || `urn:kb:builder:${v.variant}`, version: v.version, commit: v.commit },
        dockerfile: { path: ctx.dockerfile.given, sha256: dockerfileSha },
        target: ctx.target,
        platform: b.platform,
        buildArgs: ctx.buildArgs,
        secretIds: ctx.secretIds,
        bases: b.stages.filter((s) => s.baseImage).map((s) => s.baseImage!),
        context,
        startedOn: time(ctx.startedOn),
        finishedOn: time(new Date()),
        reproducible: ctx.reproducible,
        stages: b.stages.map((s) => ({ name: s.name, history: s.history, diffIds: s.config.rootfs?.diff_ids ?? [] })),
      });
      atts.push({ predicateType: SLSA_V1_PREDICATE, statement: statement(SLSA_V1_PREDICATE, subject, predicate) });
      ctx.timings.set("provenance", (ctx.timings.get("provenance") ?? 0) + performance.now() - t0);
    }
    images.push(b.image, attestationManifest(atts));
    annotations.push(undefined, attestationDescriptorAnnotations(digest));
  }
  return { images, annotations };
}

/**
 * Attestations live in an index (beside the image they describe): an output whose format cannot hold one (its
 * sink has no writeIndex, as a docker archive) cannot carry them. Say so before building.
 */
export function checkAttestationOutputs(attest: AttestOptions | undefined, outputs: { type: string; dest?: string }[]): void {
  if (!attest?.sbom && !attest?.provenance) return;
  for (const o of outputs) {
    const format = fileFormatOf(o.type);
    if (!format || o.dest === undefined || format.sink(o.dest).writeIndex) continue;
    const oci = fileFormats.oci;
    throw new KbError("USAGE", `Cannot write ${format.title} "${o.dest}" with attestations: a ${format.title} holds ${format.holds ?? "one image"} and no index, so it has no place for an SBOM or provenance`, {
      hint: `write an ${oci.title} (${oci.flag} DIR) or push to a registry, or drop --sbom/--provenance for this output`,
    });
  }
}
