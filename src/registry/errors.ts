// Turns registry responses and network failures into KbErrors that mirror the distribution spec's error codes.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes

import { KbError, type KbErrorCode, type KbErrorOptions } from "../errors.ts";
import { redact } from "./redact.ts";

/** Largest error body kb reads (as go-containerregistry). */
export const ERROR_BODY_CAP = 64 * 1024;

/** What a failed request was doing, for the message. */
export interface RequestContext {
  /** "pull manifest", "push blob", ... */
  action: string;
  /** The image or blob, e.g. "localhost:5000/a:1". */
  subject: string;
  method: string;
  url: string;
  host: string;
  /** The request asked for push scope (the hint then speaks of pushing, even for a HEAD). */
  push?: boolean;
  /** Whether kb had credentials for the host: a 401 then means "rejected", else "missing". */
  hadCredentials?: boolean;
}

/** Statuses worth retrying: timeouts, rate limits and server-side failures. */
export function isTemporaryStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Reads at most `cap` bytes of a body as text, cancelling the rest. */
export async function readCapped(res: Response, cap = ERROR_BODY_CAP): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < cap) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value.subarray(0, cap - n));
      n += Math.min(value.length, cap - n);
    }
  } catch {
    // a broken error body is still an error; keep what arrived
  } finally {
    reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Spec error codes and messages from a `{"errors":[...]}` body. */
export function parseErrorBody(text: string): { codes: string[]; messages: string[] } {
  try {
    const j = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    const errs = Array.isArray(j?.errors) ? j.errors : [];
    return {
      codes: errs.map((e) => String(e?.code ?? "")).filter(Boolean),
      messages: errs.map((e) => String(e?.message ?? "")).filter(Boolean),
    };
  } catch {
    return { codes: [], messages: [] };
  }
}

function codeFor(status: number, codes: string[]): KbErrorCode {
  if (status === 401 || status === 403 || codes.includes("UNAUTHORIZED") || codes.includes("DENIED")) return "REGISTRY_UNAUTHORIZED";
  if (codes.includes("MANIFEST_INVALID") || codes.includes("MANIFEST_BLOB_UNKNOWN")) return "MANIFEST_INVALID";
  if (codes.includes("DIGEST_INVALID")) return "BLOB_DIGEST_MISMATCH";
  if (status === 404) return "REGISTRY_NOT_FOUND";
  return "REGISTRY";
}

/** A registry's answer as an error: its HTTP status and the distribution spec's error codes ("MANIFEST_BLOB_UNKNOWN", ...). */
export class RegistryResponseError extends KbError {
  constructor(
    code: KbErrorCode,
    message: string,
    opts: KbErrorOptions,
    readonly status: number,
    /** The `errors[].code` values of the body, in order (empty when the body had none). */
    readonly registryCodes: readonly string[],
    /** Whether kb had credentials for the host. */
    readonly hadCredentials?: boolean,
  ) {
    super(code, message, opts);
  }
}

/** True when `e` is a registry answer that carries the spec error code `code`. */
export function hasRegistryCode(e: unknown, code: string): boolean {
  return e instanceof RegistryResponseError && e.registryCodes.includes(code);
}

/** Builds the KbError for a non-success response; reads (and caps) the body. */
export async function responseError(res: Response, ctx: RequestContext, secrets: Iterable<string> = []): Promise<RegistryResponseError> {
  const text = await readCapped(res);
  const { codes, messages } = parseErrorBody(text);
  const code = codeFor(res.status, codes);
  const what = codes.length ? ` ${codes.join(", ")}` : res.statusText ? ` ${res.statusText}` : "";
  const detail = messages.length ? ` "${messages.join("; ").slice(0, 300)}"` : "";
  const msg = `Cannot ${ctx.action} "${ctx.subject}": ${ctx.method} ${ctx.url} returned ${res.status}${what}${detail}`;
  const hints: Partial<Record<KbErrorCode, string>> = {
    REGISTRY_UNAUTHORIZED: `${ctx.hadCredentials === false ? `kb found no credentials for "${ctx.host}": run` : ctx.hadCredentials ? `the registry refused the credentials kb has for "${ctx.host}": check them, or run` : "Run"} "kb login ${ctx.host}" (or check that the account may ${ctx.push || !(ctx.method === "GET" || ctx.method === "HEAD") ? "push to" : "pull"} this repository)`,
    REGISTRY_NOT_FOUND: "Check the registry, repository and tag names",
    MANIFEST_INVALID: "The registry rejected the manifest; push its blobs first and check its media type",
  };
  const opts = {
    hint: hints[code] ?? (isTemporaryStatus(res.status) ? "The registry had a temporary failure; retry later" : undefined),
    temporary: isTemporaryStatus(res.status),
  };
  return new RegistryResponseError(code, redact(msg, secrets), opts, res.status, codes, ctx.hadCredentials);
}

/** Builds the KbError for a request that never got an answer (refused, reset, TLS failure). */
export function networkError(cause: unknown, ctx: RequestContext, secrets: Iterable<string> = []): KbError {
  const code = cause instanceof Error ? ((cause as { code?: string }).code ?? cause.name) : "";
  // Bun's messages already start with the code ("ECONNREFUSED: Unable to connect…"): say it once.
  const why = cause instanceof Error ? (cause.message.startsWith(`${code}:`) ? cause.message : `${code}: ${cause.message}`) : String(cause);
  const tls = /certificate|tls|ssl|self.signed|UNABLE_TO_VERIFY/i.test(why);
  return new KbError("REGISTRY", redact(`Cannot ${ctx.action} "${ctx.subject}": ${ctx.method} ${ctx.url} failed: ${why}`, secrets), {
    hint: tls
      ? `Pass the registry's CA (--registry-certificate ${ctx.host}=ca.pem or SSL_CERT_FILE) or, for a test registry, --insecure-registry ${ctx.host}`
      : `Check that the registry "${ctx.host}" is reachable`,
    temporary: !tls,
    cause,
  });
}

/** The HTTP status a registry KbError carries, if any. */
export function errorStatus(e: unknown): number | undefined {
  return e instanceof RegistryResponseError ? e.status : undefined;
}
