// What a build attests and signs: resolved from --sbom, --attest, --provenance and --sign-key once.

/** Supply-chain options of a build (docs/supply-chain.md). */
export interface AttestOptions {
  /** An SPDX SBOM of the final image; `allStages` adds one per other stage built. */
  sbom?: { allStages: boolean };
  /** A SLSA v1 provenance statement; max adds every layer's step and the Dockerfile's text digest per stage. */
  provenance?: { mode: "min" | "max" };
  /** A cosign key to sign what was pushed (COSIGN_PASSWORD decrypts it). */
  signKey?: string;
}

/** True when the build produces an attestation manifest. */
export function wantsAttestations(a: AttestOptions | undefined): boolean {
  return Boolean(a?.sbom || a?.provenance);
}
