// Parses --sbom, --attest, --provenance and --sign-key (docker buildx spellings) into AttestOptions.

import { KbError } from "../../errors.ts";
import type { AttestOptions } from "../../attest/options.ts";
import type { FlagSpec } from "../flags.ts";

/** The supply-chain flags of `kb build`. */
export const attestFlags: FlagSpec[] = [
  { name: "sbom", type: "boolean", inlineValues: ["all-stages"], description: "Attach an SPDX SBOM (=all-stages: one per stage)" },
  { name: "provenance", type: "boolean", inlineValues: ["mode=min", "mode=max"], description: "Attach SLSA v1 provenance (=mode=min|max; default min)" },
  { name: "attest", type: "string", repeatable: true, valueHint: "type=sbom|provenance[,mode=max]", description: "Attach an attestation (docker buildx spelling)" },
  { name: "sign-key", type: "string", valueHint: "cosign.key", description: "Sign the pushed image with this cosign key (COSIGN_PASSWORD)" },
];

interface Reader {
  str(name: string): string | undefined;
  list(name: string): string[];
  bool(name: string, dflt?: boolean): boolean;
  has(name: string): boolean;
}

/** Resolves the supply-chain flags; undefined when none is given. */
export function toAttestOptions(f: Reader): AttestOptions | undefined {
  const out: AttestOptions = {};
  if (f.has("sbom") && (f.bool("sbom") || f.str("sbom") === "all-stages")) out.sbom = { allStages: f.str("sbom") === "all-stages" };
  if (f.has("provenance") && (f.bool("provenance") || f.str("provenance"))) out.provenance = { mode: f.str("provenance") === "mode=max" ? "max" : "min" };
  for (const a of f.list("attest")) {
    const kv = new Map(a.split(",").map((p): [string, string] => (p.includes("=") ? [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)] : [p, ""])));
    const type = kv.get("type");
    const off = kv.get("disabled") === "true";
    if (type === "sbom") out.sbom = off ? undefined : { allStages: out.sbom?.allStages || kv.get("scan-stage") === "true" };
    else if (type === "provenance") {
      const mode = kv.get("mode") ?? "min";
      if (mode !== "min" && mode !== "max") throw new KbError("USAGE", `Cannot use --attest "${a}": mode "${mode}" is not min or max`, { hint: "--attest type=provenance,mode=max" });
      out.provenance = off ? undefined : { mode };
    } else throw new KbError("USAGE", `Cannot use --attest "${a}": unknown type "${type ?? ""}"`, { hint: "--attest type=sbom or --attest type=provenance,mode=min|max" });
  }
  if (f.str("sign-key")) out.signKey = f.str("sign-key");
  return out.sbom || out.provenance || out.signKey ? out : undefined;
}
