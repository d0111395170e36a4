// Registry credentials: Docker config.json (auths, credsStore, credHelpers), KB_REGISTRY_AUTH, and `kb login`.
// https://docs.docker.com/reference/cli/docker/login/#credential-stores

import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { KbError } from "../errors.ts";
import { redact } from "./redact.ts";

/** Credentials for one registry. An `identityToken` is an OAuth2 refresh token (Docker's `identitytoken`). */
export interface Credential {
  username?: string;
  password?: string;
  identityToken?: string;
  /** A bearer token to send as is (`registrytoken`). */
  registryToken?: string;
}

/** Where credentials come from; `get` resolves to undefined when it has none for the host. */
export interface CredentialSource {
  get(registry: string): Promise<Credential | undefined>;
}

/** The key `docker login` uses for Docker Hub. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";
const HUB_KEYS = [DOCKER_HUB_AUTH_KEY, "index.docker.io", "docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

/** Normalises a config.json key ("https://host:5000/v2/") to "host:5000"; Docker Hub keys to "docker.io". */
export function normalizeAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
  return HUB_KEYS.includes(host) || HUB_KEYS.includes(key) ? "docker.io" : host;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

function configError(file: string, why: string, cause?: unknown): KbError {
  return new KbError("CREDENTIALS", `Cannot read Docker config "${file}": ${why}`, {
    hint: `Fix or remove "${file}", or run "kb login HOST" to rewrite it`,
    cause,
  });
}

/** Reads and checks a config.json; undefined when the file does not exist. */
export function readDockerConfig(file: string): DockerConfig | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw configError(file, (e as Error).message, e);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw configError(file, `invalid JSON (${redact((e as Error).message)})`);
  }
  if (!j || typeof j !== "object" || Array.isArray(j)) throw configError(file, "the top level is not a JSON object");
  const c = j as DockerConfig;
  if (c.auths !== undefined && (typeof c.auths !== "object" || c.auths === null || Array.isArray(c.auths)))
    throw configError(file, '"auths" is not an object');
  if (c.credHelpers !== undefined && (typeof c.credHelpers !== "object" || c.credHelpers === null))
    throw configError(file, '"credHelpers" is not an object');
  if (c.credsStore !== undefined && typeof c.credsStore !== "string") throw configError(file, '"credsStore" is not a string');
  return c;
}

function fromAuthEntry(file: string, key: string, e: NonNullable<DockerConfig["auths"]>[string]): Credential | undefined {
  if (!e || typeof e !== "object") throw configError(file, `auths["${key}"] is not an object`);
  if (e.identitytoken) return { username: e.username, identityToken: e.identitytoken };
  if (e.registrytoken) return { registryToken: e.registrytoken };
  if (e.auth) {
    const plain = Buffer.from(String(e.auth), "base64").toString("utf8");
    const i = plain.indexOf(":");
    if (i <= 0) throw configError(file, `auths["${key}"].auth is not base64 of "user:password"`);
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (e.username || e.password) return { username: e.username, password: e.password };
  return undefined;
}

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin.
 * @returns undefined when the helper knows no credentials for it
 */
export function runCredentialHelper(helper: string, serverUrl: string, timeoutMs = 30_000): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) throw new KbError("CREDENTIALS", `Cannot run credential helper "${helper}": invalid name`);
  const bin = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["get"], { stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) =>
      reject(new KbError("CREDENTIALS", `Cannot run credential helper "${bin}": ${e.message}`, { hint: `Install "${bin}" or remove it from config.json`, cause: e })),
    );
    child.on("close", (code) => {
      if (code !== 0) {
        if (/credentials not found/i.test(out + err)) return resolve(undefined);
        return reject(new KbError("CREDENTIALS", `Cannot get credentials from "${bin}" for "${serverUrl}": exit ${code}: ${redact((out + err).trim().slice(0, 300))}`));
      }
      try {
        const j = JSON.parse(out) as { Username?: string; Secret?: string };
        if (j.Username === "<token>") return resolve({ identityToken: j.Secret });
        resolve({ username: j.Username, password: j.Secret });
      } catch {
        reject(new KbError("CREDENTIALS", `Cannot get credentials from "${bin}" for "${serverUrl}": it printed invalid JSON`));
      }
    });
    child.stdin.end(serverUrl);
  });
}

/** The config.json files kb consults, in order: $DOCKER_CONFIG, ~/.docker, /kaniko/.docker. */
export function dockerConfigPaths(env: Record<string, string | undefined> = process.env): string[] {
  const out: string[] = [];
  if (env.DOCKER_CONFIG) out.push(path.join(env.DOCKER_CONFIG, "config.json"));
  out.push(path.join(env.HOME || homedir(), ".docker", "config.json"));
  out.push("/kaniko/.docker/config.json");
  return [...new Set(out)];
}

/** Credentials from Docker config files: the first file that names the registry wins. */
export function dockerConfigCredentials(paths: string[] = dockerConfigPaths()): CredentialSource {
  return {
    async get(registry) {
      const want = normalizeAuthKey(registry);
      const serverUrl = want === "docker.io" ? DOCKER_HUB_AUTH_KEY : want;
      for (const file of paths) {
        const c = readDockerConfig(file);
        if (!c) continue;
        const helper = Object.entries(c.credHelpers ?? {}).find(([k]) => normalizeAuthKey(k) === want)?.[1];
        if (helper) return runCredentialHelper(helper, serverUrl);
        const entry = Object.entries(c.auths ?? {}).find(([k]) => normalizeAuthKey(k) === want);
        const found = entry ? fromAuthEntry(file, entry[0], entry[1]) : undefined;
        if (found) return found;
        if (c.credsStore) {
          const fromStore = await runCredentialHelper(c.credsStore, serverUrl);
          if (fromStore) return fromStore;
        }
      }
      return undefined;
    },
  };
}

/**
 * Credentials from `KB_REGISTRY_AUTH`, a JSON object `{"host[:port]": {"username": "…", "password": "…"}}`
 * (also accepts `"auth"` as base64 user:pass, and `"identitytoken"`).
 */
export function envCredentials(value: string | undefined = process.env.KB_REGISTRY_AUTH): CredentialSource {
  let parsed: Record<string, Record<string, string>> = {};
  if (value) {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new KbError("CREDENTIALS", "Cannot read KB_REGISTRY_AUTH: it is not valid JSON", {
        hint: 'Set it to {"registry.example:5000":{"username":"u","password":"p"}}',
      });
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
      throw new KbError("CREDENTIALS", "Cannot read KB_REGISTRY_AUTH: the top level is not a JSON object");
  }
  return {
    async get(registry) {
      const want = normalizeAuthKey(registry);
      const e = Object.entries(parsed).find(([k]) => normalizeAuthKey(k) === want);
      return e ? fromAuthEntry("KB_REGISTRY_AUTH", e[0], e[1] as never) : undefined;
    },
  };
}

/** Fixed credentials per host (tests, CLI flags). */
export function staticCredentials(map: Record<string, Credential>): CredentialSource {
  return { get: async (registry) => Object.entries(map).find(([k]) => normalizeAuthKey(k) === normalizeAuthKey(registry))?.[1] };
}

/** Asks each source in turn; the first answer wins. */
export function chainCredentials(...sources: CredentialSource[]): CredentialSource {
  return {
    async get(registry) {
      for (const s of sources) {
        const c = await s.get(registry);
        if (c) return c;
      }
      return undefined;
    },
  };
}

/** kb's default lookup: KB_REGISTRY_AUTH, then Docker config files. */
export function defaultCredentials(env: Record<string, string | undefined> = process.env): CredentialSource {
  return chainCredentials(envCredentials(env.KB_REGISTRY_AUTH), dockerConfigCredentials(dockerConfigPaths(env)));
}

/**
 * Stores credentials in config.json as `docker login` does (mode 0600, other keys kept).
 * @default configPath the first of dockerConfigPaths()
 * @returns the file written
 */
export function kbLogin(host: string, username: string, password: string, configPath = dockerConfigPaths()[0]): string {
  const existing = readDockerConfig(configPath) ?? {};
  const key = normalizeAuthKey(host) === "docker.io" ? DOCKER_HUB_AUTH_KEY : normalizeAuthKey(host);
  const auths = { ...(existing.auths ?? {}) };
  for (const k of Object.keys(auths)) if (normalizeAuthKey(k) === normalizeAuthKey(host)) delete auths[k];
  auths[key] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
  mkdirSync(path.dirname(configPath), { recursive: true, mode: 0o700 });
  const tmp = `${configPath}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ ...existing, auths }, null, "\t")}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, configPath);
  return configPath;
}
