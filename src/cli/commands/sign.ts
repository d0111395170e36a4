// `kb key generate`, `kb sign REF --key cosign.key`, `kb verify REF --key cosign.pub`: cosign-compatible
// key-based signatures, offline but for the registry that holds the image (docs/supply-chain.md).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { KbError } from "../../errors.ts";
import { parseReference } from "../../image/reference.ts";
import { fetchManifest } from "../../registry/index.ts";
import { generateCosignKeyPair, loadCosignPrivateKey, loadPublicKey } from "../../sign/keys.ts";
import { addSignature, readSignatures, signedIdentity, verifiedSignatures } from "../../sign/registry-signatures.ts";
import type { CliIo } from "../io.ts";
import { FORMAT_FLAG, formatFromFlags, parseCommandFlags, registryClientFromFlags, REGISTRY_FLAGS, type CommandHelp } from "./_common.ts";

const KEY: CommandHelp = {
  name: "key",
  args: [1, 1],
  usage: "kb key generate [--output-key-prefix cosign]",
  summary: "Write a cosign key pair: PREFIX.key (ECDSA P-256, encrypted with $COSIGN_PASSWORD) and PREFIX.pub",
  specs: [
    { name: "output-key-prefix", type: "string", valueHint: "PREFIX", description: "File names PREFIX.key and PREFIX.pub (default cosign)" },
    { name: "force", type: "boolean", description: "Overwrite existing files" },
  ],
};
const SIGN: CommandHelp = {
  name: "sign",
  args: [1, 1],
  usage: "kb sign REF --key cosign.key",
  summary: "Sign an image in a registry (stored as the sha256-<digest>.sig tag, as cosign does); $COSIGN_PASSWORD decrypts the key",
  specs: [{ name: "key", type: "string", valueHint: "cosign.key", description: "Private key (cosign's encrypted format)" }, ...REGISTRY_FLAGS],
};
const VERIFY: CommandHelp = {
  name: "verify",
  args: [1, 1],
  usage: "kb verify REF --key cosign.pub",
  summary: "Check that an image in a registry carries a signature the public key verifies (exit 1 when none does)",
  specs: [{ name: "key", type: "string", valueHint: "cosign.pub", description: "Public key (PEM)" }, FORMAT_FLAG, ...REGISTRY_FLAGS],
};

function readKeyFile(file: string | undefined, io: CliIo, what: string): string {
  if (!file) throw new KbError("USAGE", `Cannot ${what}: no key given`, { hint: "pass --key FILE" });
  try {
    return readFileSync(path.resolve(io.cwd, file), "utf8");
  } catch (e) {
    throw new KbError("USAGE", `Cannot read key "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function password(io: CliIo): string {
  const p = io.env.COSIGN_PASSWORD;
  if (p === undefined) throw new KbError("USAGE", "Cannot use the private key: COSIGN_PASSWORD is not set", { hint: "export COSIGN_PASSWORD (an empty value means no password)" });
  return p;
}

/** `kb key generate`. */
export async function runKey(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, KEY, io);
  if (!p) return 0;
  if (p.args[0] !== "generate") throw new KbError("USAGE", `Cannot run "kb key ${p.args[0]}": unknown subcommand`, { hint: "kb key generate" });
  const prefix = path.resolve(io.cwd, p.f.str("output-key-prefix") ?? "cosign");
  for (const f of [`${prefix}.key`, `${prefix}.pub`]) {
    if (existsSync(f) && !p.f.bool("force")) throw new KbError("USAGE", `Cannot write "${f}": it exists`, { hint: "pass --force to overwrite, or --output-key-prefix" });
  }
  const { privatePem, publicPem } = await generateCosignKeyPair(password(io));
  writeFileSync(`${prefix}.key`, privatePem, { mode: 0o600 });
  writeFileSync(`${prefix}.pub`, publicPem);
  io.out(`Private key written to ${prefix}.key\nPublic key written to ${prefix}.pub\n`);
  return 0;
}

/** `kb sign REF --key cosign.key`. */
export async function runSign(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, SIGN, io);
  if (!p) return 0;
  const ref = parseReference(p.args[0]!);
  const key = await loadCosignPrivateKey(readKeyFile(p.f.str("key"), io, "sign"), password(io), `key "${p.f.str("key")}"`);
  const client = registryClientFromFlags(p.f, io, [ref.registry]);
  const { digest } = await fetchManifest(client, ref);
  const { tag, count } = await addSignature(client, parseReference(ref.name()), digest, signedIdentity(ref), key);
  io.out(`Signed ${ref.name()}@${digest} (${ref.name()}:${tag}, ${count} signature${count === 1 ? "" : "s"})\n`);
  return 0;
}

/** `kb verify REF --key cosign.pub`. */
export async function runVerify(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, VERIFY, io);
  if (!p) return 0;
  const ref = parseReference(p.args[0]!);
  const key = loadPublicKey(readKeyFile(p.f.str("key"), io, "verify"), `key "${p.f.str("key")}"`);
  const client = registryClientFromFlags(p.f, io, [ref.registry]);
  const { digest } = await fetchManifest(client, ref);
  const sigs = await readSignatures(client, parseReference(ref.name()), digest);
  const good = verifiedSignatures(sigs, ref, digest, key);
  if (!good.length) {
    throw new KbError("SIGNATURE_INVALID", `Cannot verify "${ref}" (${digest}): ${sigs.length ? `none of its ${sigs.length} signature(s) verifies with this key for this repository` : "it has no signature"}`, {
      hint: sigs.length ? "check that this is the public half of the key that signed it" : `sign it with: kb sign ${ref} --key cosign.key`,
    });
  }
  if (formatFromFlags(p.f) === "json") io.out(`${JSON.stringify(good.map((g) => ({ critical: { identity: { "docker-reference": g.dockerReference }, image: { "docker-manifest-digest": g.digest }, type: "cosign container image signature" } })))}\n`);
  else io.out(`Verified ${ref.name()}@${digest}: ${good.length} signature(s) by this key (${[...new Set(good.map((g) => g.dockerReference))].join(", ")})\n`);
  return 0;
}
