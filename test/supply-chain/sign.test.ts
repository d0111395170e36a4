// Signatures checked by tools kb did not write, on the real registry: libsodium (PyNaCl) and hashlib's scrypt
// decrypt kb's cosign key; openssl verifies kb's signatures; a signature made with openssl and pushed by skopeo is
// accepted by kb verify. skopeo's own sigstoreSigned policy is used when this skopeo has sigstore built in
// (Debian's 1.9 build does not: "Debian-local change: sigstore disabled"), and the skip says so.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pushBusyboxImage } from "../kit/base-images.ts";
import { useRegistry } from "../kit/registry-fixture.ts";
import { cleanup, kb, makeContext, must, tempDir } from "../kit/kb.ts";

const PASSWORD = "kb-test-key-password";
const TOOLS = join(import.meta.dir, "_cosign-tools.py");
const PYTHON = "/usr/bin/python3";
const naclMissing = spawnSync(PYTHON, ["-c", "import nacl.secret"]).status !== 0 ? "python3-nacl is not installed (apt-get install python3-nacl)" : undefined;
if (naclMissing) console.log(`sign.test.ts: key-format checks skipped: ${naclMissing}`);
const reg = useRegistry();
let work = "";
let policy = "";
let regsD = "";
let skopeoSigstore: string | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  work = tempDir("kb-sign-");
  dirs.push(work);
  const r = await kb(["key", "generate", "--output-key-prefix", join(work, "cosign")], { COSIGN_PASSWORD: PASSWORD });
  if (r.code !== 0) throw new Error(r.err);
  regsD = join(work, "registries.d");
  mkdirSync(regsD);
  writeFileSync(join(regsD, "kb-test.yaml"), `docker:\n  ${reg.host}:\n    use-sigstore-attachments: true\n`);
  policy = join(work, "policy.json");
  writeFileSync(policy, JSON.stringify({
    default: [{ type: "reject" }],
    transports: { docker: { [`${reg.host}/sc`]: [{ type: "sigstoreSigned", keyPath: join(work, "cosign.pub"), signedIdentity: { type: "matchRepoDigestOrExact" } }] }, oci: { "": [{ type: "insecureAcceptAnything" }] } },
  }));
});
afterAll(async () => {
  cleanup(...dirs);
});

const kbReg = () => ["--insecure-registry", reg.host];
const digestOf = (ref: string) => JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`])).Digest as string;
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** skopeo copy under the sigstoreSigned policy. */
function policyCopy(ref: string): { ok: boolean; err: string } {
  const dest = join(tempDir("kb-sign-copy-"), "l");
  dirs.push(dest);
  const r = spawnSync("skopeo", ["--policy", policy, "--registries.d", regsD, "copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${dest}:x`], { encoding: "utf8" });
  if (r.stderr.includes("sigstore disabled")) skopeoSigstore = "this skopeo was built without sigstore (Debian-local change: sigstore disabled)";
  return { ok: r.status === 0, err: r.stderr };
}

/** The payload and signature of every layer of a .sig image, read with skopeo (into an OCI layout). */
function readSigImage(sigRef: string): { payload: Buffer; signature: string }[] {
  const dir = join(tempDir("kb-sig-read-"), "l");
  dirs.push(dir);
  must("skopeo", ["copy", "--src-tls-verify=false", `docker://${sigRef}`, `oci:${dir}:s`]);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const blob = (d: string) => readFileSync(join(dir, "blobs", "sha256", d.replace("sha256:", "")));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  return manifest.layers.map((l: any) => ({ payload: blob(l.digest), signature: l.annotations["dev.cosignproject.cosign/signature"] }));
}

function opensslVerify(pub: string, payload: Buffer, signatureB64: string): boolean {
  const d = tempDir("kb-ossl-");
  dirs.push(d);
  writeFileSync(join(d, "payload"), payload);
  writeFileSync(join(d, "sig"), Buffer.from(signatureB64, "base64"));
  return spawnSync("openssl", ["dgst", "-sha256", "-verify", pub, "-signature", join(d, "sig"), join(d, "payload")], { encoding: "utf8" }).stdout.includes("Verified OK");
}

/** The private key inside kb's cosign.key, decrypted by libsodium, as a PEM file openssl reads. */
function decryptWithLibsodium(keyFile: string, password: string): string {
  const der = join(work, `plain-${sha256(keyFile).slice(0, 8)}.der`);
  must(PYTHON, [TOOLS, "decrypt", keyFile, password, der]);
  const pem = der.replace(/\.der$/, ".pem");
  must("openssl", ["pkey", "-inform", "DER", "-in", der, "-out", pem]);
  return pem;
}

describe("cosign keys and signatures, checked by other tools", () => {
  test("kb key generate writes cosign's encrypted format: libsodium decrypts it to the pair of cosign.pub", () => {
    const text = readFileSync(join(work, "cosign.key"), "utf8");
    expect(text).toStartWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    const env = JSON.parse(Buffer.from(text.split("\n").slice(1, -2).join(""), "base64").toString());
    expect(env.kdf).toMatchObject({ name: "scrypt", params: { N: 32768, r: 8, p: 1 } });
    expect(env.cipher.name).toBe("nacl/secretbox");
    if (naclMissing) return;
    const pem = decryptWithLibsodium(join(work, "cosign.key"), PASSWORD);
    expect(must("openssl", ["pkey", "-in", pem, "-pubout"])).toBe(readFileSync(join(work, "cosign.pub"), "utf8"));
    expect(must("openssl", ["pkey", "-in", pem, "-text", "-noout"])).toContain("prime256v1");
    expect(spawnSync(PYTHON, [TOOLS, "decrypt", join(work, "cosign.key"), "not-the-password", join(work, "x.der")]).status).not.toBe(0);
  });

  test("kb sign: openssl verifies the signature, the payload names the digest; kb verify tells signed, unsigned, tampered apart", async () => {
    const signed = await pushBusyboxImage(reg, "sc/signed", "1");
    const unsigned = await pushBusyboxImage(reg, "sc/unsigned", "1");
    const s = await kb(["sign", signed, "--key", join(work, "cosign.key"), ...kbReg()], { COSIGN_PASSWORD: PASSWORD });
    expect(s.err).toBe("");
    expect(s.code).toBe(0);
    const digest = digestOf(signed);
    const sigRef = `${reg.host}/sc/signed:${digest.replace(":", "-")}.sig`;
    const raw = JSON.parse(must("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${sigRef}`]));
    expect(raw.layers[0].mediaType).toBe("application/vnd.dev.cosign.simplesigning.v1+json");
    const [sig] = readSigImage(sigRef);
    expect(JSON.parse(sig!.payload.toString())).toEqual({ critical: { identity: { "docker-reference": signed }, image: { "docker-manifest-digest": digest }, type: "cosign container image signature" }, optional: null });
    expect(opensslVerify(join(work, "cosign.pub"), sig!.payload, sig!.signature)).toBe(true);
    expect(opensslVerify(join(work, "cosign.pub"), Buffer.concat([sig!.payload, Buffer.from(" ")]), sig!.signature)).toBe(false);
    // signing again adds nothing; kb verify accepts
    expect((await kb(["sign", signed, "--key", join(work, "cosign.key"), ...kbReg()], { COSIGN_PASSWORD: PASSWORD })).out).toContain("1 signature)");
    expect((await kb(["verify", signed, "--key", join(work, "cosign.pub"), ...kbReg()])).code).toBe(0);
    const uv = await kb(["verify", unsigned, "--key", join(work, "cosign.pub"), ...kbReg()]);
    expect(uv.code).not.toBe(0);
    expect(uv.err).toContain("it has no signature");
    // Tampered: a different image carrying the first image's signature image.
    const other = makeContext({ Dockerfile: `FROM ${signed}\nLABEL tampered=yes\n` });
    dirs.push(other);
    expect((await kb(["build", other, "-t", `${reg.host}/sc/tampered:1`, ...kbReg(), "--cache-dir", join(work, "cache")])).code).toBe(0);
    const td = digestOf(`${reg.host}/sc/tampered:1`);
    must("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${sigRef}`, `docker://${reg.host}/sc/tampered:${td.replace(":", "-")}.sig`]);
    const tv = await kb(["verify", `${reg.host}/sc/tampered:1`, "--key", join(work, "cosign.pub"), ...kbReg()]);
    expect(tv.code).not.toBe(0);
    expect(tv.err).toContain("none of its 1 signature(s) verifies");

    // skopeo's own policy check, where this skopeo has sigstore.
    const ok = policyCopy(signed);
    if (skopeoSigstore) {
      console.log(`sign.test.ts: skopeo policy checks skipped: ${skopeoSigstore}`);
      return;
    }
    expect(ok).toMatchObject({ ok: true });
    expect(policyCopy(unsigned).ok).toBe(false);
    expect(policyCopy(`${reg.host}/sc/tampered:1`).ok).toBe(false);
  }, 120_000);

  test("kb verify accepts a signature made by openssl with the libsodium-decrypted key and pushed by skopeo", async () => {
    if (naclMissing) return;
    const ref = await pushBusyboxImage(reg, "sc/by-tools", "1");
    const digest = digestOf(ref);
    const pem = decryptWithLibsodium(join(work, "cosign.key"), PASSWORD);
    const payload = Buffer.from(`{"critical":{"identity":{"docker-reference":"${ref}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":{"creator":"openssl"}}`);
    const d = join(tempDir("kb-ext-sig-"), "l");
    dirs.push(d);
    mkdirSync(join(d, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(work, "payload"), payload);
    const sigDer = spawnSync("openssl", ["dgst", "-sha256", "-sign", pem, "-binary", join(work, "payload")]).stdout as Buffer;
    const put = (b: Buffer | string) => {
      const h = sha256(b);
      writeFileSync(join(d, "blobs", "sha256", h), b);
      return { digest: `sha256:${h}`, size: Buffer.byteLength(b) };
    };
    const layer = put(payload);
    const config = put(JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [layer.digest] } }));
    const manifest = put(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [{ mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", ...layer, annotations: { "dev.cosignproject.cosign/signature": sigDer.toString("base64") } }] }));
    writeFileSync(join(d, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(d, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "s" } }] }));
    must("skopeo", ["copy", "--dest-tls-verify=false", `oci:${d}:s`, `docker://${reg.host}/sc/by-tools:${digest.replace(":", "-")}.sig`]);
    const v = await kb(["verify", ref, "--key", join(work, "cosign.pub"), ...kbReg(), "--format", "json"]);
    expect(v.err).toBe("");
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out)[0].critical.identity["docker-reference"]).toBe(ref);
    const other = join(work, "other");
    expect((await kb(["key", "generate", "--output-key-prefix", other], { COSIGN_PASSWORD: "x" })).code).toBe(0);
    expect((await kb(["verify", ref, "--key", `${other}.pub`, ...kbReg()])).code).not.toBe(0);
  }, 60_000);

  test("a wrong COSIGN_PASSWORD or a missing one is refused with a clear error", async () => {
    const ref = await pushBusyboxImage(reg, "sc/pw", "1");
    const r = await kb(["sign", ref, "--key", join(work, "cosign.key"), ...kbReg()], { COSIGN_PASSWORD: "wrong" });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("wrong password");
    const m = await kb(["sign", ref, "--key", join(work, "cosign.key"), ...kbReg()], { COSIGN_PASSWORD: undefined });
    expect(m.err).toContain("COSIGN_PASSWORD is not set");
  });
});
