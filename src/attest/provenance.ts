// SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance) of a kb build, as an in-toto predicate.

import { createHash, randomUUID } from "node:crypto";
import type { HistoryEntry, Platform } from "../image/types.ts";
import type { ResourceDescriptor } from "./context-source.ts";

/** The build type kb's provenance declares (what externalParameters mean: docs/supply-chain.md). */
export const KB_BUILD_TYPE = "https://kb.invalid/attestations/dockerfile-build/v1";

/** What the provenance records about one build. */
export interface ProvenanceInput {
  mode: "min" | "max";
  builder: { id: string; version: string; commit: string };
  /** Path of the Dockerfile as given, and the sha256 of its bytes. */
  dockerfile: { path: string; sha256: string };
  target?: string;
  platform: Platform;
  /** Build args by name (values included: secrets are never build args; --secret values are not read here). */
  buildArgs: Map<string, string>;
  /** Ids of --secret mounts offered (never their values). */
  secretIds: string[];
  /** Every registry image a built stage started from, by digest. */
  bases: { ref: string; digest: string }[];
  context?: ResourceDescriptor;
  startedOn: Date;
  finishedOn: Date;
  reproducible: boolean;
  /** max: each stage's layers with the step that made them. */
  stages?: { name: string; history: HistoryEntry[]; diffIds: string[] }[];
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const platformString = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;

/** A base image reference as a purl-like URI with its platform (BuildKit's spelling). */
function baseUri(ref: string, platform: Platform): string {
  const name = ref.replace(/@sha256:[0-9a-f]{64}$/, "");
  const m = /^(.*?)(?::([^:/]+))?$/.exec(name)!;
  return `pkg:docker/${m[1]}${m[2] ? `@${m[2]}` : ""}?platform=${encodeURIComponent(platformString(platform))}`;
}

/**
 * The predicate of a SLSA v1 provenance statement: builder id and version, the build type, the invocation
 * (Dockerfile digest, target, platform, build args, secret ids), resolved dependencies (bases by digest, the
 * context), start and finish times; mode max adds the layers each stage made and the step behind each.
 * @example const p = provenancePredicate({ mode: "min", builder, dockerfile, platform, ... })
 */
export function provenancePredicate(input: ProvenanceInput): Record<string, unknown> {
  const args = Object.fromEntries([...input.buildArgs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [`build-arg:${k}`, v]));
  const resolved: ResourceDescriptor[] = [];
  const seen = new Set<string>();
  for (const b of input.bases) {
    const key = `${b.ref}@${b.digest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    resolved.push({ uri: baseUri(b.ref, input.platform), digest: { sha256: b.digest.replace(/^sha256:/, "") } });
  }
  if (input.context) resolved.push(input.context);
  const invocationId = input.reproducible
    ? createHash("sha256").update(JSON.stringify([input.dockerfile, args, input.bases, input.context, input.target, platformString(input.platform)])).digest("hex").slice(0, 32)
    : randomUUID();
  const predicate: Record<string, unknown> = {
    buildDefinition: {
      buildType: KB_BUILD_TYPE,
      externalParameters: {
        configSource: { path: input.dockerfile.path, digest: { sha256: input.dockerfile.sha256 } },
        request: {
          frontend: "dockerfile",
          args: { ...args, ...(input.target ? { target: input.target } : {}), platform: platformString(input.platform) },
          ...(input.secretIds.length ? { secrets: input.secretIds.map((id) => ({ id })) } : {}),
        },
      },
      internalParameters: { reproducible: input.reproducible, provenanceMode: input.mode },
      resolvedDependencies: resolved,
    },
    runDetails: {
      builder: { id: input.builder.id, version: { kb: input.builder.version, commit: input.builder.commit } },
      metadata: { invocationId, startedOn: iso(input.startedOn), finishedOn: iso(input.finishedOn) },
    },
  };
  if (input.mode === "max" && input.stages) {
    (predicate.runDetails as Record<string, unknown>).byproducts = input.stages.flatMap((s) => {
      const steps = s.history.filter((h) => !h.empty_layer);
      return s.diffIds.map((d, i) => ({ name: `stage ${s.name}: ${steps[i]?.created_by ?? "base layer"}`.slice(0, 1000), digest: { sha256: d.replace(/^sha256:/, "") }, mediaType: "application/vnd.oci.image.layer.v1.tar" }));
    });
  }
  return predicate;
}
