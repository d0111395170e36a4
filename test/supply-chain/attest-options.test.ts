// The supply-chain flags (--sbom[=all-stages], --provenance[=mode=…], --attest, --sign-key) and the provenance
// predicate's shape: build args kept, secrets by id only, mode max adds the layers' steps.

import { describe, expect, test } from "bun:test";
import { parseFlags } from "../../src/cli/flags.ts";
import { buildFlags } from "../../src/cli/commands/build-flags.ts";
import { toBuildOptions } from "../../src/cli/commands/build-options.ts";
import { provenancePredicate } from "../../src/attest/provenance.ts";
import { isKbError } from "../../src/errors.ts";

const attest = (...argv: string[]) => toBuildOptions(parseFlags(argv, buildFlags), {}).attest;

describe("supply-chain flags", () => {
  test("docker buildx spellings map to one AttestOptions", () => {
    expect(attest(".")).toBeUndefined();
    expect(attest("--sbom")).toEqual({ sbom: { allStages: false } });
    expect(attest("--sbom=all-stages")).toEqual({ sbom: { allStages: true } });
    expect(attest("--sbom=false")).toBeUndefined();
    expect(attest("--provenance")).toEqual({ provenance: { mode: "min" } });
    expect(attest("--provenance=mode=max")).toEqual({ provenance: { mode: "max" } });
    expect(attest("--attest", "type=sbom", "--attest", "type=provenance,mode=max")).toEqual({ sbom: { allStages: false }, provenance: { mode: "max" } });
    expect(attest("--attest", "type=sbom,scan-stage=true")).toEqual({ sbom: { allStages: true } });
    expect(attest("--sbom", "--attest", "type=sbom,disabled=true")).toBeUndefined();
    expect(attest("--sign-key", "k")).toEqual({ signKey: "k" });
  });

  test("bad values are USAGE errors that say what is accepted", () => {
    for (const argv of [["--sbom=some"], ["--attest", "type=vex"], ["--attest", "type=provenance,mode=full"], ["--provenance=mode=huge"]]) {
      let err: unknown;
      try {
        attest(...argv);
      } catch (e) {
        err = e;
      }
      expect(isKbError(err, "USAGE")).toBe(true);
    }
    expect(() => attest("--sbom=some")).toThrow("all-stages");
  });
});

describe("provenancePredicate()", () => {
  const input = {
    mode: "min" as const,
    builder: { id: "urn:test", version: "1.0.0", commit: "abc" },
    dockerfile: { path: "Dockerfile", sha256: "d".repeat(64) },
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
    buildArgs: new Map([["B", "2"], ["A", "1"]]),
    secretIds: ["npmrc"],
    bases: [{ ref: "localhost:5000/library/debian:bookworm", digest: `sha256:${"a".repeat(64)}` }, { ref: "localhost:5000/library/debian:bookworm", digest: `sha256:${"a".repeat(64)}` }],
    startedOn: new Date(1_700_000_000_000),
    finishedOn: new Date(1_700_000_100_000),
    reproducible: true,
    stages: [{ name: "build", history: [{ created_by: "RUN make" }, { created_by: "ENV X=1", empty_layer: true }], diffIds: [`sha256:${"e".repeat(64)}`] }],
  };
  test("min: builder, invocation, deduplicated bases by digest, secret ids only, times", () => {
    const p = provenancePredicate(input) as any;
    expect(p.buildDefinition.externalParameters.request.args).toEqual({ "build-arg:A": "1", "build-arg:B": "2", platform: "linux/arm64/v8" });
    expect(p.buildDefinition.externalParameters.request.secrets).toEqual([{ id: "npmrc" }]);
    expect(p.buildDefinition.resolvedDependencies).toEqual([{ uri: "pkg:docker/localhost:5000/library/debian@bookworm?platform=linux%2Farm64%2Fv8", digest: { sha256: "a".repeat(64) } }]);
    expect(p.runDetails.metadata).toMatchObject({ startedOn: "2023-11-14T22:13:20Z", finishedOn: "2023-11-14T22:15:00Z" });
    expect(p.runDetails.byproducts).toBeUndefined();
    expect(provenancePredicate(input)).toEqual(p); // reproducible: same invocation id
  });
  test("max: every layer with the step that made it", () => {
    const p = provenancePredicate({ ...input, mode: "max" }) as any;
    expect(p.runDetails.byproducts).toEqual([{ name: "stage build: RUN make", digest: { sha256: "e".repeat(64) }, mediaType: "application/vnd.oci.image.layer.v1.tar" }]);
  });
});
