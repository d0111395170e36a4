// Removes secrets (credentials, tokens, signed-URL parameters) from text before it reaches a message or a log.

const SECRET_PARAMS =
  "token|access_token|refresh_token|id_token|password|passwd|secret|client_secret|sig|signature|code|key|auth|" +
  "x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|se|st|sp|sv";

const RULES: [RegExp, string][] = [
  // Authorization / Proxy-Authorization header values, whatever the scheme.
  [/((?:proxy-)?authorization\s*[:=]\s*"?)(?:(basic|bearer|token)\s+)?[^\s,"']+/gi, "$1$2 ***"],
  // Bare scheme + credential pairs.
  [/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{6,}/g, "$1 ***"],
  // user:password@ in URLs.
  [/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, "$1***@"],
  // Secret query parameters of token and storage URLs.
  [new RegExp(`([?&;](?:${SECRET_PARAMS})=)[^&\\s"'#]*`, "gi"), "$1***"],
  // Secret fields in JSON (config.json, token responses).
  [/("(?:password|secret|token|access_token|refresh_token|identitytoken|registrytoken|auth)"\s*:\s*")(?:[^"\\]|\\.)*"/gi, '$1***"'],
];

/**
 * Returns `text` with secrets replaced by "***": Authorization values, Basic/Bearer credentials, URL
 * user-info, secret query parameters, secret JSON fields, and every string in `secrets` (of 4+ characters).
 * @example redact("GET https://u:p@h/t?token=abc") // "GET https://***@h/t?token=***"
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  for (const [re, rep] of RULES) out = out.replace(re, rep);
  return out.replace(/(authorization\s*[:=]\s*"?) \*\*\*/gi, "$1***");
}
