// Which URL and TLS settings reach a registry host: https first, http for localhost and --insecure-registry hosts.

import { readFileSync } from "node:fs";
import { KbError } from "../errors.ts";
import { fetchWithTls } from "../runtime.ts";
import { networkError, responseError } from "./errors.ts";
import { withIdleBody } from "./idle-body.ts";
import { parseWwwAuthenticate, type Challenge } from "./www-authenticate.ts";

/** What kb learnt about a host from `GET /v2/`. */
export interface HostState {
  /** "https://host:port" or "http://host:port". */
  base: string;
  /** The host's auth challenge, when `/v2/` answered 401. */
  challenge?: Challenge;
  fetch: typeof fetch;
}

/** TLS and scheme options shared by every host of a client. */
export interface HostOptions {
  insecure: string[];
  caCerts: Record<string, string>;
  /** host[:port] → client certificate and key files for mutual TLS. */
  clientCerts?: Record<string, { cert: string; key: string }>;
  userAgent: string;
  env: Record<string, string | undefined>;
}

function hostOnly(h: string): string {
  return h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d+$/, "");
}

/** True for hosts that may be reached over plain http: loopback names and --insecure-registry entries. */
export function allowsHttp(host: string, insecure: string[]): boolean {
  const h = hostOnly(host);
  return h === "localhost" || h === "127.0.0.1" || h === "[::1]" || h.endsWith(".localhost") || isInsecure(host, insecure);
}

function isInsecure(host: string, insecure: string[]): boolean {
  return insecure.some((i) => {
    const x = i.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
    // "*" stands for every host (Kaniko's --insecure / --skip-tls-verify).
    return x === "*" || x === host || x === hostOnly(host);
  });
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new KbError("USAGE", `Cannot read ${what} "${file}": ${(e as Error).message}`, { hint: "Pass a readable PEM file", cause: e });
  }
}

/** The fetch to use for a host: with its CA (caCerts, SSL_CERT_FILE) and skip-verify for insecure hosts. */
export function fetchForHost(host: string, o: HostOptions): typeof fetch {
  const ca: string[] = [];
  const caFile = o.caCerts[host] ?? o.caCerts[hostOnly(host)];
  if (caFile) ca.push(readPem(caFile, `CA certificate for "${host}"`));
  if (o.env.SSL_CERT_FILE) ca.push(readPem(o.env.SSL_CERT_FILE, "SSL_CERT_FILE"));
  const client = o.clientCerts?.[host] ?? o.clientCerts?.[hostOnly(host)];
  const mtls = client ? { cert: readPem(client.cert, `client certificate for "${host}"`), key: readPem(client.key, `client key for "${host}"`) } : {};
  return fetchWithTls({ ca, insecureSkipVerify: isInsecure(host, o.insecure), ...mtls });
}

/** How long a registry may take to start answering a request (KB_REGISTRY_TIMEOUT seconds overrides). */
export const HEADER_TIMEOUT_MS = (Number(process.env.KB_REGISTRY_TIMEOUT) || 60) * 1000;

/**
 * A signal that also aborts when `host` has not answered within HEADER_TIMEOUT_MS; call `done()` once the
 * response headers are in (the body may then take as long as it needs).
 */
export function answerDeadline(host: string, signal?: AbortSignal): { signal: AbortSignal; done(): void } {
  const timer = new AbortController();
  const t = setTimeout(() => timer.abort(new Error(`no answer from ${host} in ${HEADER_TIMEOUT_MS / 1000} s`)), HEADER_TIMEOUT_MS);
  return { signal: signal ? AbortSignal.any([signal, timer.signal]) : timer.signal, done: () => clearTimeout(t) };
}

/**
 * Pings `GET /v2/` on `https://host`, falling back to `http://host` when allowed and TLS or the
 * connection fails. `explicitBase` (a mirror written with a scheme) skips the probe of the other scheme.
 */
export async function probeHost(host: string, o: HostOptions, explicitBase?: string, signal?: AbortSignal): Promise<HostState> {
  const f = fetchForHost(host, o);
  const bases = explicitBase ? [explicitBase] : allowsHttp(host, o.insecure) ? [`https://${host}`, `http://${host}`] : [`https://${host}`];
  let last: unknown;
  for (const base of bases) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const deadline = answerDeadline(host, signal);
      try {
        const res = await f(`${base}/v2/`, { headers: { "User-Agent": o.userAgent }, redirect: "follow", signal: deadline.signal }).finally(deadline.done);
        // An https server answers plain http with 400: then the TLS failure is the real story. A server that
        // answers plain http with a 5xx is an http registry failing: say so, not "TLS handshake failed".
        if (last !== undefined && base.startsWith("http:") && res.status >= 500 && attempt === 0) {
          await res.body?.cancel().catch(() => {});
          await new Promise((r) => setTimeout(r, 300)); // one more try: a 5xx is often temporary
          continue;
        }
        if (last !== undefined && base.startsWith("http:") && res.status >= 500)
          throw await responseError(withIdleBody(res, `${base}/v2/`), { action: "reach registry", subject: host, method: "GET", url: `${base}/v2/`, host });
        const www = res.headers.get("www-authenticate");
        await res.body?.cancel().catch(() => {});
        if (last !== undefined && base.startsWith("http:") && ![200, 401, 404].includes(res.status)) break;
        const challenge = res.status === 401 && www ? parseWwwAuthenticate(www)[0] : undefined;
        return { base, challenge, fetch: f };
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (e instanceof KbError) throw e;
        last = e;
        if (!/ECONNRESET|reset|closed/i.test(String((e as Error).message))) break;
      }
    }
  }
  throw networkError(last, { action: "reach registry", subject: host, method: "GET", url: `${bases.at(-1)}/v2/`, host });
}
