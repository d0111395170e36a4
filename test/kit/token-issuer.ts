// A tiny Docker token-auth server for tests: checks Basic credentials and signs ES256 JWTs the registry trusts.
// https://distribution.github.io/distribution/spec/auth/jwt/

import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from "node:crypto";
import { createServer, type Server } from "node:http";

export interface TokenIssuerOptions {
  /** PEM of the EC P-256 private key whose certificate is the registry's rootcertbundle. */
  keyPem: string;
  issuer: string;
  service: string;
  users: Record<string, string>;
  /** Anonymous callers get pull rights. @default false */
  anonymousPull?: boolean;
  /** Token lifetime in seconds. @default 300 */
  ttl?: number;
}

export interface TokenIssuer {
  realm: string;
  /** Scopes asked for, one entry per token request (tests assert on refreshes). */
  requests: { user?: string; scopes: string[] }[];
  stop(): Promise<void>;
}

/** libtrust key id: base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo), in 4-char groups. */
export function libtrustKeyId(keyPem: string): string {
  const der = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  const bytes = createHash("sha256").update(der).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(":");
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function parseScope(s: string): { type: string; name: string; actions: string[] } | undefined {
  const first = s.indexOf(":");
  const last = s.lastIndexOf(":");
  if (first < 0 || last <= first) return undefined;
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(",").filter(Boolean) };
}

/** Starts the issuer on 127.0.0.1 and a free port. */
export async function startTokenIssuer(o: TokenIssuerOptions): Promise<TokenIssuer> {
  const key = createPrivateKey(o.keyPem);
  const kid = libtrustKeyId(o.keyPem);
  const requests: TokenIssuer["requests"] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const authz = req.headers.authorization ?? "";
    let user: string | undefined;
    if (authz.startsWith("Basic ")) {
      const [u, ...p] = Buffer.from(authz.slice(6), "base64").toString().split(":");
      if (o.users[u] === undefined || o.users[u] !== p.join(":")) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    }
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean);
    requests.push({ user, scopes });
    const access = scopes
      .map(parseScope)
      .filter((s) => s !== undefined)
      .map((s) => ({ ...s, actions: user ? s.actions : o.anonymousPull ? s.actions.filter((a) => a === "pull") : [] }))
      .filter((s) => s.actions.length > 0);
    const now = Math.floor(Date.now() / 1000);
    const ttl = o.ttl ?? 300;
    const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid }));
    const claims = b64url(
      JSON.stringify({ iss: o.issuer, sub: user ?? "", aud: o.service, exp: now + ttl, nbf: now - 10, iat: now, jti: randomUUID(), access }),
    );
    const sig = sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" });
    const token = `${header}.${claims}.${b64url(sig)}`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, access_token: token, expires_in: ttl, issued_at: new Date(now * 1000).toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
