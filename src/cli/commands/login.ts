// `kb login HOST`: checks the credentials against the registry's /v2/, then saves them in Docker's config.json.

import { isKbError, KbError } from "../../errors.ts";
import { dockerConfigPaths, kbLogin, staticCredentials, createRegistryClient } from "../../registry/index.ts";
import type { CliIo } from "../io.ts";
import { parseCommandFlags, registryClientOptions, REGISTRY_FLAGS, type CommandHelp } from "./_common.ts";

const LOGIN: CommandHelp = {
  name: "login",
  args: [1, 1],
  usage: "kb login HOST [-u USER] [--password-stdin | -p PASSWORD]",
  summary: "Check credentials against a registry and save them in Docker's config.json ($DOCKER_CONFIG or ~/.docker)",
  specs: [
    { name: "username", aliases: ["u"], type: "string", valueHint: "USER", description: "User name" },
    { name: "password", aliases: ["p"], type: "string", valueHint: "PASSWORD", description: "Password (visible to other users of this machine: prefer --password-stdin)" },
    { name: "password-stdin", type: "boolean", description: "Read the password from stdin" },
    ...REGISTRY_FLAGS,
  ],
};

/** Largest password (or token) read from stdin. */
const STDIN_CAP = 64 * 1024;

/** Reads stdin up to STDIN_CAP bytes: `io.stdin` when the caller gave one, else the process's. */
async function readStdin(io: CliIo): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  const source: AsyncIterable<Uint8Array> = io.stdin ?? (process.stdin as AsyncIterable<Uint8Array>);
  for await (const c of source) {
    n += c.byteLength;
    if (n > STDIN_CAP) throw new KbError("USAGE", `Cannot read the password from stdin: it is longer than ${STDIN_CAP} bytes`, { hint: "pipe only the password" });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

/** "https://host:5000/v2/" → "host:5000" (docker login accepts URLs). */
function hostOf(text: string): string {
  const host = text.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  if (!host || /[\s@]/.test(host)) throw new KbError("USAGE", `Cannot log in to "${text}": not a registry host`, { hint: "write kb login registry.example.com[:PORT]" });
  return host;
}

/** `kb login HOST`: never prints the password; nothing is written unless the registry accepts it. */
export async function runLogin(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, LOGIN, io);
  if (!p) return 0;
  const { f } = p;
  const host = hostOf(p.args[0]!);
  const username = f.str("username");
  if (!username) throw new KbError("USAGE", `Cannot log in to "${host}": no user name`, { hint: "pass -u USER" });
  if (f.str("password") !== undefined && f.bool("password-stdin")) throw new KbError("USAGE", "Cannot use --password with --password-stdin", { hint: "pick one" });
  let password = f.str("password");
  if (password !== undefined) io.err("warning: a password on the command line is visible to other users; use --password-stdin\n");
  else if (f.bool("password-stdin")) password = await readStdin(io);
  else throw new KbError("USAGE", `Cannot log in to "${host}": no password`, { hint: `echo "$TOKEN" | kb login ${host} -u ${username} --password-stdin` });
  if (!password) throw new KbError("USAGE", `Cannot log in to "${host}": the password is empty`);

  const client = createRegistryClient({ ...registryClientOptions(f, io, [host]), auth: staticCredentials({ [host]: { username, password } }) });
  try {
    await client.ping(host);
  } catch (e) {
    // Registry errors are redacted by the client; make sure the password cannot slip through a cause either.
    if (e instanceof Error && e.message.includes(password)) throw new KbError("REGISTRY_UNAUTHORIZED", `Cannot log in to "${host}": the registry refused the credentials`);
    if (isKbError(e, "REGISTRY_UNAUTHORIZED")) e.hint = `check the user name and password for "${host}"; nothing was saved`;
    throw e;
  }
  const file = kbLogin(host, username, password, dockerConfigPaths(io.env)[0]);
  io.out(`Login Succeeded (credentials for "${host}" saved in ${file})\n`);
  return 0;
}
