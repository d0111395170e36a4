// kb build --sign-key: the key is decrypted before the build (a wrong password fails fast), what was pushed is
// signed after the push, under every tag.

import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { KbError } from "../errors.ts";
import { parseReference } from "../image/reference.ts";
import type { Digest } from "../image/types.ts";
import type { EventSink } from "../log/events.ts";
import type { RegistryClient } from "../registry/index.ts";
import { loadCosignPrivateKey } from "./keys.ts";
import { addSignature, signedIdentity } from "./registry-signatures.ts";

/** Reads and decrypts the signing key ($COSIGN_PASSWORD); refuses a build that pushes nothing to sign. */
export async function loadBuildSigningKey(file: string, env: Record<string, string | undefined>, pushes: boolean): Promise<KeyObject> {
  if (!pushes) throw new KbError("USAGE", `Cannot sign with "${file}": the build pushes nothing`, { hint: "signatures live in a registry: add -t REGISTRY/REPO:TAG (and no --no-push)" });
  if (env.COSIGN_PASSWORD === undefined) throw new KbError("USAGE", `Cannot use signing key "${file}": COSIGN_PASSWORD is not set`, { hint: "export COSIGN_PASSWORD (an empty value means no password)" });
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new KbError("USAGE", `Cannot read signing key "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return loadCosignPrivateKey(text, env.COSIGN_PASSWORD, `signing key "${file}"`);
}

/** Signs `digest` under each pushed reference (one signature per tag, all in the repository's .sig image). */
export async function signPushed(client: RegistryClient, pushed: string[], digest: Digest, key: KeyObject, sink: EventSink, signal?: AbortSignal): Promise<void> {
  for (const r of pushed) {
    const ref = parseReference(r);
    const { tag } = await addSignature(client, parseReference(ref.name()), digest, signedIdentity(ref), key, signal);
    sink.emit({ type: "info", message: `signed ${signedIdentity(ref)}@${digest} (${tag})` });
  }
}
