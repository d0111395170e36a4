// Cosign key pairs: ECDSA P-256, the private key PKCS#8 encrypted with scrypt + nacl/secretbox in a JSON envelope
// (go-securesystemslib "encrypted", as cosign generate-key-pair writes it), the public key plain PKIX PEM.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scrypt, type KeyObject } from "node:crypto";
import { KbError } from "../errors.ts";
import { secretboxOpen, secretboxSeal } from "./_secretbox.ts";

/** The PEM type cosign ≥ 2 writes; cosign 1.x wrote "ENCRYPTED COSIGN PRIVATE KEY" (both are read). */
export const SIGSTORE_PRIVATE_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const COSIGN_PRIVATE_PEM = "ENCRYPTED COSIGN PRIVATE KEY";
/** scrypt parameters of go-securesystemslib's encrypted package (its defaults). */
const SCRYPT = { N: 32768, r: 8, p: 1 };

interface Envelope {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

const kdf = (password: string, salt: Uint8Array, p: { N: number; r: number; p: number }) =>
  new Promise<Uint8Array>((res, rej) => scrypt(password, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + (1 << 20) }, (e, k) => (e ? rej(e) : res(k))));

function pem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

function unpem(text: string, what: string): { type: string; der: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----/.exec(text);
  if (!m) throw new KbError("USAGE", `Cannot read ${what}: no PEM block in it`, { hint: "pass a key written by `kb key generate` or `cosign generate-key-pair`" });
  return { type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ""), "base64") };
}

/**
 * A new ECDSA P-256 key pair: the private key encrypted with `password` in cosign's format, the public key as PEM.
 * @example const { privatePem, publicPem } = await generateCosignKeyPair(process.env.COSIGN_PASSWORD ?? "")
 */
export async function generateCosignKeyPair(password: string): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = await kdf(password, salt, SCRYPT);
  const env: Envelope = {
    kdf: { name: "scrypt", params: SCRYPT, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(secretboxSeal(pkcs8, nonce, key)).toString("base64"),
  };
  return { privatePem: pem(SIGSTORE_PRIVATE_PEM, new TextEncoder().encode(JSON.stringify(env))), publicPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

/**
 * Decrypts a cosign private key (either PEM type). Throws USAGE on a wrong password or an unknown format.
 * @example const key = await loadCosignPrivateKey(readFileSync("cosign.key", "utf8"), process.env.COSIGN_PASSWORD ?? "")
 */
export async function loadCosignPrivateKey(text: string, password: string, what = "the private key"): Promise<KeyObject> {
  const { type, der } = unpem(text, what);
  if (type !== SIGSTORE_PRIVATE_PEM && type !== COSIGN_PRIVATE_PEM) {
    throw new KbError("USAGE", `Cannot use ${what}: its PEM type is "${type}", not "${SIGSTORE_PRIVATE_PEM}"`, { hint: "kb reads cosign's encrypted key format: make one with `kb key generate`" });
  }
  let env: Envelope;
  try {
    env = JSON.parse(der.toString("utf8"));
  } catch {
    throw new KbError("USAGE", `Cannot use ${what}: its contents are not cosign's JSON envelope`);
  }
  if (env?.kdf?.name !== "scrypt" || env?.cipher?.name !== "nacl/secretbox") {
    throw new KbError("USAGE", `Cannot use ${what}: it uses ${env?.kdf?.name}/${env?.cipher?.name}, kb reads scrypt with nacl/secretbox`);
  }
  const { N, r, p } = env.kdf.params;
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > 1 << 20 || r * p > 64) throw new KbError("USAGE", `Cannot use ${what}: scrypt parameters N=${N} r=${r} p=${p} are out of range`);
  const key = await kdf(password, Buffer.from(env.kdf.salt, "base64"), { N, r, p });
  const plain = secretboxOpen(Buffer.from(env.ciphertext, "base64"), Buffer.from(env.cipher.nonce, "base64"), key);
  if (!plain) throw new KbError("USAGE", `Cannot decrypt ${what}: wrong password`, { hint: "set COSIGN_PASSWORD to the key's password" });
  const k = createPrivateKey({ key: Buffer.from(plain), format: "der", type: "pkcs8" });
  if (k.asymmetricKeyType !== "ec") throw new KbError("USAGE", `Cannot use ${what}: it is a ${k.asymmetricKeyType} key; kb signs with ECDSA`);
  return k;
}

/** Reads a PEM public key (PKIX), as cosign.pub holds it. */
export function loadPublicKey(text: string, what = "the public key"): KeyObject {
  const { type } = unpem(text, what);
  if (type !== "PUBLIC KEY") throw new KbError("USAGE", `Cannot use ${what}: its PEM type is "${type}", not "PUBLIC KEY"`, { hint: "pass cosign.pub, the public half" });
  try {
    return createPublicKey(text);
  } catch (e) {
    throw new KbError("USAGE", `Cannot use ${what}: ${(e as Error).message}`);
  }
}
