// Authorization headers for registry requests: Basic, and Bearer tokens per scope (cached until expiry).
// https://distribution.github.io/distribution/spec/auth/token/

import { KbError } from "../errors.ts";
import type { Credential, CredentialSource } from "./credentials.ts";
import { readCapped, responseError } from "./errors.ts";
import { withIdleBody } from "./idle-body.ts";
import { redact } from "./redact.ts";
import type { Challenge } from "./www-authenticate.ts";

interface CachedToken {
  header: string;
  expires: number;
}

/** Everything the authenticator needs from its client. */
export interface AuthContext {
  credentials?: CredentialSource;
  userAgent: string;
  /** Strings to hide from every message (filled as passwords and tokens appear). */
  secrets: Set<string>;
}

/** The WWW-Authenticate schemes kb answers (lower case; the first one a 401 offers wins); `header` makes their values. */
export const AUTH_SCHEMES = ["bearer", "basic"] as const;

/** The challenge kb answers among those a 401 offers. */
export const answerableChallenge = (challenges: Challenge[]): Challenge | undefined =>
  challenges.find((c) => (AUTH_SCHEMES as readonly string[]).includes(c.scheme));

/** Makes Authorization headers for challenges; tokens are cached per (realm, service, scopes). */
export class Authenticator {
  #tokens = new Map<string, CachedToken>();
  #creds = new Map<string, Promise<Credential | undefined>>();
  constructor(private ctx: AuthContext) {}

  /** The credentials for a registry host, looked up once. */
  credentialsFor(host: string): Promise<Credential | undefined> {
    let p = this.#creds.get(host);
    if (!p) {
      p = (this.ctx.credentials?.get(host) ?? Promise.resolve(undefined)).then((c) => {
        for (const s of [c?.password, c?.identityToken, c?.registryToken]) if (s) this.ctx.secrets.add(s);
        return c;
      });
      this.#creds.set(host, p);
    }
    return p;
  }

  /** Drops cached tokens for these scopes (after the registry refused one). */
  forget(challenge: Challenge, scopes: string[]): void {
    this.#tokens.delete(this.#key(challenge, scopes));
  }

  #key(c: Challenge, scopes: string[]): string {
    return `${c.params.realm}|${c.params.service ?? ""}|${[...new Set(scopes)].sort().join(" ")}`;
  }

  /** The Authorization header for a request to `host` under `challenge`, or undefined for anonymous. */
  async header(host: string, challenge: Challenge | undefined, scopes: string[], fetchFn: typeof fetch, signal?: AbortSignal): Promise<string | undefined> {
    const cred = await this.credentialsFor(host);
    if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") {
      if (!cred?.username || cred.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
    }
    if (challenge.scheme !== "bearer") return undefined;
    const realm = challenge.params.realm;
    if (!realm || !/^https?:\/\//.test(realm))
      throw new KbError("REGISTRY_PROTOCOL", `Cannot authenticate to "${host}": the Bearer challenge has no usable realm "${realm ?? ""}"`);
    const key = this.#key(challenge, scopes);
    const hit = this.#tokens.get(key);
    if (hit && hit.expires > Date.now()) return hit.header;
    const token = await this.#fetchToken(host, challenge, scopes, cred, fetchFn, signal);
    this.#tokens.set(key, token);
    return token.header;
  }

  async #fetchToken(host: string, c: Challenge, scopes: string[], cred: Credential | undefined, fetchFn: typeof fetch, signal?: AbortSignal): Promise<CachedToken> {
    const url = new URL(c.params.realm);
    const headers: Record<string, string> = { "User-Agent": this.ctx.userAgent, Accept: "application/json" };
    let init: RequestInit;
    if (cred?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: cred.identityToken, client_id: "kb" });
      if (c.params.service) form.set("service", c.params.service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      init = { method: "POST", headers, body: form.toString(), signal };
    } else {
      if (c.params.service) url.searchParams.set("service", c.params.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (cred?.username && cred.password !== undefined)
        headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
      init = { method: "GET", headers, signal };
    }
    const ctx = { action: "get a registry token", subject: host, method: init.method!, url: redact(url.toString(), this.ctx.secrets), host };
    let res: Response;
    try {
      res = await fetchFn(url, init);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new KbError("REGISTRY", redact(`Cannot get a registry token for "${host}": ${init.method} ${url} failed: ${(e as Error).message}`, this.ctx.secrets), { temporary: true, cause: e });
    }
    res = withIdleBody(res, url.toString());
    if (!res.ok) throw await responseError(res, ctx, this.ctx.secrets);
    const text = await readCapped(res, 1024 * 1024);
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      j = JSON.parse(text);
    } catch {
      throw new KbError("REGISTRY_PROTOCOL", `Cannot get a registry token for "${host}": ${ctx.method} ${ctx.url} returned invalid JSON`);
    }
    const token = typeof j.token === "string" && j.token ? j.token : typeof j.access_token === "string" ? j.access_token : "";
    if (!token) throw new KbError("REGISTRY_PROTOCOL", `Cannot get a registry token for "${host}": the answer has neither "token" nor "access_token"`);
    this.ctx.secrets.add(token);
    const ttl = typeof j.expires_in === "number" && j.expires_in > 0 ? j.expires_in : 60;
    return { header: `Bearer ${token}`, expires: Date.now() + Math.max(5, ttl - 10) * 1000 };
  }
}
