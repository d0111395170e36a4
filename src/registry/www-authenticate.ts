// Parses WWW-Authenticate challenges (RFC 7235 §4.1, RFC 6750 §3): several challenges, quoted commas, token68.

import { KbError } from "../errors.ts";

/** One authentication challenge; `scheme` is lower-case, parameter names too. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), rare for registries. */
  token68?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

function bad(header: string, why: string): KbError {
  return new KbError("REGISTRY_PROTOCOL", `Cannot parse WWW-Authenticate header "${header.slice(0, 200)}": ${why}`, {
    hint: "The registry sent a malformed authentication challenge; check its auth configuration",
  });
}

/**
 * Parses a WWW-Authenticate header value into its challenges.
 * @example parseWwwAuthenticate('Bearer realm="https://a/token",scope="repository:x:pull,push"')
 * @throws KbError REGISTRY_PROTOCOL when the header is malformed
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  if (header.length > 16384) throw bad(header, "it is longer than 16 KiB");
  const out: Challenge[] = [];
  let i = 0;
  const ws = () => {
    while (i < header.length && (header[i] === " " || header[i] === "\t")) i++;
  };
  const rest = () => header.slice(i);
  while (true) {
    while (i < header.length && /[\s,]/.test(header[i])) i++;
    if (i >= header.length) break;
    const scheme = TOKEN.exec(rest());
    if (!scheme) throw bad(header, `expected an auth scheme at offset ${i}`);
    i += scheme[0].length;
    const ch: Challenge = { scheme: scheme[0].toLowerCase(), params: {} };
    out.push(ch);
    ws();
    const t68 = TOKEN68.exec(rest());
    if (t68) {
      const after = header.slice(i + t68[0].length).trimStart();
      if (after === "" || after.startsWith(",")) {
        ch.token68 = t68[0];
        i += t68[0].length;
        continue;
      }
    }
    // auth-params
    while (i < header.length) {
      ws();
      const save = i;
      const name = TOKEN.exec(rest());
      if (!name) break;
      i += name[0].length;
      ws();
      if (header[i] !== "=") {
        i = save; // the next challenge's scheme
        break;
      }
      i++;
      ws();
      let value = "";
      if (header[i] === '"') {
        i++;
        let closed = false;
        while (i < header.length) {
          const c = header[i++];
          if (c === "\\") {
            if (i >= header.length) break;
            value += header[i++];
          } else if (c === '"') {
            closed = true;
            break;
          } else value += c;
        }
        if (!closed) throw bad(header, `unterminated quoted value for "${name[0]}"`);
      } else {
        const v = /^[^\s,]*/.exec(rest())!;
        value = v[0];
        i += v[0].length;
      }
      ch.params[name[0].toLowerCase()] = value;
      ws();
      if (i < header.length && header[i] !== ",") throw bad(header, `expected "," at offset ${i}`);
      i++;
    }
  }
  if (out.length === 0) throw bad(header, "it names no challenge");
  return out;
}
