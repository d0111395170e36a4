// Untrusted bytes into every supply-chain parser, fixed seed: scanners, Go build info, cosign keys, signatures.
// No crash, no hang: a value, undefined, or a KbError.

import { describe, expect, test } from "bun:test";
import { defaultScanners } from "../../src/attest/index.ts";
import { parseBuildInfo, readGoBuildInfo } from "../../src/attest/scan-go.ts";
import { isKbError } from "../../src/errors.ts";
import { loadCosignPrivateKey, loadPublicKey } from "../../src/sign/keys.ts";
import { verifyPayload } from "../../src/sign/simple-signing.ts";
import { generateKeyPairSync } from "node:crypto";
import { prng } from "../kit/random-image.ts";

const rnd = prng(18);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
const SEEDS = ["Package: a\nStatus: install ok installed\nVersion: 1\n", "P:x\nV:1\n\n", '{"name":"a","version":"1","license":{"type":"MIT"}}', '{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1"}}}', "Name: a\nVersion: 1\n", "\x7fELF\xff Go buildinf:\x08\x02"];

/** A seed text with random bytes spliced in, cut, or repeated. */
function mutate(seed: string): Uint8Array {
  const b = Uint8Array.from(seed, (c) => c.charCodeAt(0) & 0xff);
  const at = Math.floor(rnd() * (b.length + 1));
  const mode = Math.floor(rnd() * 3);
  if (mode === 0) return Uint8Array.from([...b.slice(0, at), ...bytes(Math.floor(rnd() * 64)), ...b.slice(at)]);
  if (mode === 1) return b.slice(0, at);
  return Uint8Array.from([...b, ...b, ...bytes(8)]);
}
const stream = (b: Uint8Array) => new Blob([Buffer.from(b)]).stream();
const PATHS = ["var/lib/dpkg/status", "lib/apk/db/installed", "app/node_modules/a/package.json", "app/package-lock.json", "x/a-1.dist-info/METADATA", "usr/bin/app"];

describe("supply-chain parsers on 3000 fixed-seed inputs", () => {
  test("scanners parse or return undefined; accumulating never throws", async () => {
    for (let i = 0; i < 3000; i++) {
      const scanners = defaultScanners();
      const input = mutate(pick(SEEDS));
      const path = pick(PATHS);
      const entry = { path, type: "file" as const, mode: 0o755, uid: 0, gid: 0, size: 1 << 20, mtime: 0 };
      for (const s of scanners) {
        if (!s.wants(path, entry)) continue;
        const data = await s.parse(path, entry, stream(input));
        if (data !== undefined) s.add(path, data, 0, false);
        expect(Array.isArray(s.packages())).toBe(true);
      }
    }
  });

  test("Go build info: random headers are a result, undefined or 'short', never a throw", async () => {
    for (let i = 0; i < 3000; i++) {
      const b = Uint8Array.from([...Uint8Array.from("\xff Go buildinf:", (c) => c.charCodeAt(0)), ...bytes(Math.floor(rnd() * 80))]);
      const r = parseBuildInfo(b, 0);
      expect(r === undefined || r === "short" || typeof r.modinfo === "string").toBe(true);
      if (i % 100 === 0) expect(await readGoBuildInfo(stream(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, ...b])))).toSatisfy((x) => x === undefined || typeof x.goVersion === "string");
    }
  });

  test("keys and signatures: malformed input is a USAGE error or a failed verification", async () => {
    const good = Buffer.from(JSON.stringify({ kdf: { name: "scrypt", params: { N: 16, r: 1, p: 1 }, salt: "AA==" }, cipher: { name: "nacl/secretbox", nonce: "AA==" }, ciphertext: "AA==" })).toString("base64");
    const pems = ["", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n!!\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----", `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${good}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----`,
      `-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n${Buffer.from('{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1}}}').toString("base64")}\n-----END ENCRYPTED COSIGN PRIVATE KEY-----`, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"];
    for (const p of pems) {
      for (const load of [() => loadCosignPrivateKey(p, "pw"), async () => loadPublicKey(p)]) {
        let err: unknown;
        try {
          await load();
        } catch (e) {
          err = e;
        }
        expect(isKbError(err, "USAGE")).toBe(true);
      }
    }
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    for (let i = 0; i < 500; i++) expect(verifyPayload(mutate(pick(SEEDS)), Buffer.from(bytes(70)).toString("base64"), publicKey)).toBeUndefined();
  });
});
