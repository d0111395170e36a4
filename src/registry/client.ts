// The registry HTTP client: host probing, auth challenges, mirrors, redirects and retries for every request.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md

import { registryApiHost } from "../image/reference.ts";
import { answerableChallenge, Authenticator } from "./_auth.ts";
import { answerDeadline, probeHost, type HostState } from "./_hosts.ts";
import { backoffDelay, DEFAULT_RETRY, isRetryableNetworkError, parseRetryAfter, sleep, type RetryPolicy } from "./_retry.ts";
import { defaultCredentials, type CredentialSource } from "./credentials.ts";
import { isTemporaryStatus, networkError, responseError, type RequestContext } from "./errors.ts";
import { withIdleBody } from "./idle-body.ts";
import { redact } from "./redact.ts";
import { parseWwwAuthenticate } from "./www-authenticate.ts";

/** Progress of a blob transfer (the `progress` event of src/log without its `type`). */
export interface ProgressEvent {
  id: string;
  action: "pull" | "push";
  done: number;
  total?: number;
  finished?: boolean;
}

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /** host[:port] entries reached over http and/or without TLS verification. @default [] */
  insecure?: string[];
  /** Mirrors tried first for docker.io pulls ("mirror.gcr.io", "http://localhost:5001"). @default [] */
  mirrors?: string[];
  /** host[:port] → path of a PEM CA bundle to trust for that host. @default {} */
  caCerts?: Record<string, string>;
  /** host[:port] → client certificate and key files (PEM) for mutual TLS. @default {} */
  clientCerts?: Record<string, { cert: string; key: string }>;
  /** Registry → hosts tried first for its pulls, in order (Kaniko's --registry-map). @default {} */
  registryMap?: Record<string, string[]>;
  /** With mirrors or a map for a registry, never pull from the registry itself. @default false */
  skipDefaultFallback?: boolean;
  /** @default defaultCredentials() (KB_REGISTRY_AUTH, then Docker config files) */
  auth?: CredentialSource;
  /** Extra attempts on 429/5xx/connection resets. @default 4 */
  retries?: number;
  /** @default "kb/0.1" */
  userAgent?: string;
  onProgress?: (ev: ProgressEvent) => void;
  /** Retry timing override (tests use small delays). */
  retryPolicy?: Partial<RetryPolicy>;
  /** Environment (SSL_CERT_FILE, KB_REGISTRY_AUTH, DOCKER_CONFIG). @default process.env */
  env?: Record<string, string | undefined>;
}

/** One request to a registry. Exactly one of `path` (under the host) or `url` (a Location) is set. */
export interface RegistryRequest {
  registry: string;
  repository: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  path?: string;
  url?: string;
  headers?: Record<string, string>;
  /** A ReadableStream body is sent once (never retried here; callers restart the upload). */
  body?: Uint8Array | string | ReadableStream<Uint8Array> | null;
  /** Ask for push rights (scope `pull,push`). */
  push?: boolean;
  /** More token scopes, e.g. `repository:other/repo:pull` for a cross-repo mount. */
  extraScopes?: string[];
  /** For messages: "pull manifest", and the image or blob. */
  action: string;
  subject: string;
  /** Statuses handed back rather than thrown. @default any 2xx */
  accept?: number[];
  signal?: AbortSignal;
  /** Try docker.io mirrors first (GET/HEAD only). */
  mirrors?: boolean;
}

/** A response and the URL it answered (for resolving Location headers). */
export interface RegistryResponse {
  res: Response;
  url: string;
}

/** A client for one or more registries; cheap to share, it caches host probes and tokens. */
export interface RegistryClient {
  request(req: RegistryRequest): Promise<RegistryResponse>;
  /** `GET /v2/` (with auth when challenged): throws when the registry is unreachable or refuses credentials. */
  ping(registry: string, signal?: AbortSignal): Promise<void>;
  progress(ev: ProgressEvent): void;
  /** Removes this client's known secrets from text. */
  redact(text: string): string;
  readonly retries: number;
}

/**
 * Creates a registry client.
 * @example const client = createRegistryClient({ insecure: ["localhost:5000"] })
 */
export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const env = opts.env ?? process.env;
  const userAgent = opts.userAgent ?? "kb/0.1";
  const hostOpts = { insecure: opts.insecure ?? [], caCerts: opts.caCerts ?? {}, clientCerts: opts.clientCerts ?? {}, userAgent, env };
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retryPolicy, retries: opts.retries ?? opts.retryPolicy?.retries ?? DEFAULT_RETRY.retries };
  const secrets = new Set<string>();
  const auth = new Authenticator({ credentials: opts.auth ?? defaultCredentials(env), userAgent, secrets });
  const hosts = new Map<string, Promise<HostState>>();

  const hostState = (key: string, host: string, explicitBase?: string): Promise<HostState> => {
    let p = hosts.get(key);
    if (!p) {
      p = probeHost(host, hostOpts, explicitBase);
      p.catch(() => hosts.delete(key));
      hosts.set(key, p);
    }
    return p;
  };

  const targets = (req: RegistryRequest): { credHost: string; state: () => Promise<HostState> }[] => {
    const api = registryApiHost(req.registry);
    const origin = { credHost: req.registry, state: () => hostState(api, api) };
    if (!req.mirrors || (req.method !== "GET" && req.method !== "HEAD")) return [origin];
    const hosts = [...(req.registry === "docker.io" ? (opts.mirrors ?? []) : []), ...mappedHosts(opts.registryMap ?? {}, req.registry)];
    if (!hosts.length) return [origin];
    const mirrors = hosts.map((m) => {
      const scheme = /^(https?):\/\//.exec(m)?.[1];
      const host = m.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
      return { credHost: host, state: () => hostState(m, host, scheme ? `${scheme}://${host}` : undefined) };
    });
    return opts.skipDefaultFallback ? mirrors : [...mirrors, origin];
  };

  async function send(req: RegistryRequest, credHost: string, st: HostState): Promise<RegistryResponse> {
    const scopes = [`repository:${req.repository}:${req.push ? "pull,push" : "pull"}`, ...(req.extraScopes ?? [])];
    const replayable = !(req.body instanceof ReadableStream);
    let challenge = st.challenge;
    let authorization = await auth.header(credHost, challenge, scopes, st.fetch, req.signal);
    let url = req.url ?? `${st.base}${req.path}`;
    const hadCredentials = (await auth.credentialsFor(credHost)) !== undefined;
    const ctx = (): RequestContext => ({ action: req.action, subject: req.subject, method: req.method, url: redact(url, secrets), host: credHost, push: req.push, hadCredentials });
    let refreshedAuth = false;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { "User-Agent": userAgent, ...req.headers };
      let res: Response;
      try {
        ({ res, url } = await fetchFollowing(st.fetch, url, req, headers, authorization));
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason;
        const delay = backoffDelay(policy, attempt);
        if (replayable && isRetryableNetworkError(e) && attempt < policy.retries && waited + delay <= policy.budgetMs) {
          waited += delay;
          await sleep(delay, req.signal);
          continue;
        }
        throw networkError(e, ctx(), secrets);
      }
      const accepted = req.accept ? req.accept.includes(res.status) : res.ok;
      if (accepted) return { res, url };
      if (res.status === 401 && !refreshedAuth) {
        const www = res.headers.get("www-authenticate");
        const next = www ? answerableChallenge(parseWwwAuthenticate(www)) : undefined;
        if (next && replayable) {
          refreshedAuth = true;
          if (challenge) auth.forget(challenge, scopes);
          challenge = next;
          if (!st.challenge) st.challenge = next;
          const wanted = next.params.scope ? [...new Set([...scopes, ...next.params.scope.split(" ")])] : scopes;
          authorization = await auth.header(credHost, next, wanted, st.fetch, req.signal);
          await res.body?.cancel().catch(() => {});
          continue;
        }
      }
      if (isTemporaryStatus(res.status) && replayable && attempt < policy.retries) {
        const delay = backoffDelay(policy, attempt, parseRetryAfter(res.headers.get("retry-after")));
        if (waited + delay <= policy.budgetMs) {
          waited += delay;
          await res.body?.cancel().catch(() => {});
          await sleep(delay, req.signal);
          continue;
        }
      }
      throw await responseError(res, ctx(), secrets);
    }
  }

  return {
    retries: policy.retries,
    progress: (ev) => opts.onProgress?.(ev),
    redact: (text) => redact(text, secrets),
    async request(req) {
      const list = targets(req);
      let lastErr: unknown;
      for (const t of list) {
        try {
          return await send(req, t.credHost, await t.state());
        } catch (e) {
          if (req.signal?.aborted) throw e;
          lastErr = e;
        }
      }
      throw lastErr;
    },
    async ping(registry, signal) {
      const api = registryApiHost(registry);
      const st = await hostState(api, api);
      if (!st.challenge) return;
      await send({ registry, repository: "", method: "GET", path: "/v2/", action: "log in to", subject: registry, signal }, registry, { ...st });
    },
  };
}

/** The hosts --registry-map names for a registry (keys "index.docker.io" and "docker.io" are one registry). */
function mappedHosts(map: Record<string, string[]>, registry: string): string[] {
  const norm = (r: string) => (["index.docker.io", "registry-1.docker.io", "docker.io"].includes(r) ? "docker.io" : r);
  return Object.entries(map).flatMap(([k, v]) => (norm(k) === norm(registry) ? v : []));
}

/** fetch with redirects followed by hand, so Authorization never goes to another origin. */
async function fetchFollowing(
  f: typeof fetch,
  start: string,
  req: RegistryRequest,
  headers: Record<string, string>,
  authorization: string | undefined,
): Promise<{ res: Response; url: string }> {
  let url = start;
  const origin = new URL(start).origin;
  for (let hop = 0; hop < 10; hop++) {
    const h = { ...headers };
    if (authorization && new URL(url).origin === origin) h.Authorization = authorization;
    // A registry that never answers must not hang kb: without a streamed body (whose upload may take long),
    // the response headers must come within HEADER_TIMEOUT_MS; the retry loop then tries again.
    const streamed = req.body instanceof ReadableStream;
    const deadline = streamed ? undefined : answerDeadline(new URL(url).host, req.signal);
    const signal = deadline?.signal ?? req.signal;
    const init: RequestInit & { duplex?: string } = { method: req.method, headers: h, redirect: "manual", signal };
    if (req.body != null && hop === 0) init.body = req.body as BodyInit;
    if (streamed) init.duplex = "half";
    let res: Response;
    try {
      res = await f(url, init);
    } finally {
      deadline?.done();
    }
    // Past the headers, every body read still has KB_REGISTRY_TIMEOUT to bring a byte (a stalled body fails).
    res = withIdleBody(res, url);
    const loc = res.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(res.status) || !loc || req.method !== "GET" && req.method !== "HEAD") return { res, url };
    await res.body?.cancel().catch(() => {});
    url = new URL(loc, url).toString();
  }
  throw new Error(`too many redirects from ${start}`);
}
