// The push check before a build (Kaniko's CheckPushPermissions): for each repository kb will push to, a token
// for push scope and a blob upload started and cancelled, so a build never runs for minutes only to fail at push.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs

import { KbError } from "../errors.ts";
import type { Reference } from "../image/reference.ts";
import type { RegistryClient } from "./client.ts";
import { dockerConfigPaths, normalizeAuthKey, readDockerConfig } from "./credentials.ts";
import { errorStatus, RegistryResponseError } from "./errors.ts";

/** A repository kb will push to, and what it is for ("destination", "cache repo"). */
export interface PushTarget {
  ref: Reference;
  role: "destination" | "cache repo";
}

/** Where the credentials for a registry come from ("KB_REGISTRY_AUTH", a config.json path…), or undefined for none. */
export type CredentialOrigin = (registry: string) => string | undefined;

/**
 * Names the source kb's default lookup (KB_REGISTRY_AUTH, then each Docker config file) would use for `registry`.
 * It reads only the files, never runs a credential helper; a `credsStore` is named as a possible source.
 */
export function defaultCredentialOrigin(env: Record<string, string | undefined> = process.env): CredentialOrigin {
  return (registry) => {
    const want = normalizeAuthKey(registry);
    try {
      const fromEnv = env.KB_REGISTRY_AUTH ? (JSON.parse(env.KB_REGISTRY_AUTH) as Record<string, unknown>) : {};
      if (Object.keys(fromEnv).some((k) => normalizeAuthKey(k) === want)) return "KB_REGISTRY_AUTH";
    } catch {
      // an unreadable KB_REGISTRY_AUTH fails the credential lookup itself, with its own message
    }
    for (const file of dockerConfigPaths(env)) {
      let c: ReturnType<typeof readDockerConfig>;
      try {
        c = readDockerConfig(file);
      } catch {
        continue;
      }
      if (!c) continue;
      const helper = Object.entries(c.credHelpers ?? {}).find(([k]) => normalizeAuthKey(k) === want)?.[1];
      if (helper) return `credential helper "docker-credential-${helper}" named in ${file}`;
      if (Object.keys(c.auths ?? {}).some((k) => normalizeAuthKey(k) === want)) return file;
      if (c.credsStore) return `credential store "docker-credential-${c.credsStore}" named in ${file}`;
    }
    return undefined;
  };
}

/** Where kb looked, for the "no credentials" message. */
function searched(env: Record<string, string | undefined>): string {
  return ["KB_REGISTRY_AUTH", ...dockerConfigPaths(env)].join(", ");
}

function explain(e: unknown, t: PushTarget, origin: string | undefined, env: Record<string, string | undefined>): KbError {
  const host = t.ref.registry;
  const repo = t.ref.name();
  const skip = "or pass --skip-push-permission-check to build anyway";
  const status = errorStatus(e);
  const why = e instanceof Error ? e.message : String(e);
  const code = e instanceof KbError ? e.code : "REGISTRY";
  if (status === 401 || status === 403 || code === "REGISTRY_UNAUTHORIZED") {
    // The client knows whether it found credentials (a credsStore may be named yet hold none for this host).
    if (!origin || (e instanceof RegistryResponseError && e.hadCredentials === false))
      return new KbError("REGISTRY_UNAUTHORIZED", `Cannot push to ${t.role} "${repo}": credentials for "${host}" are missing (looked in ${searched(env)})`, {
        hint: `Run "kb login ${host}", or point DOCKER_CONFIG at the folder of a config.json that has "${host}" (in a pod: mount it at /kaniko/.docker/config.json), ${skip}`,
        cause: e,
      });
    if (status === 403)
      return new KbError("REGISTRY_UNAUTHORIZED", `Cannot push to ${t.role} "${repo}": the registry "${host}" accepted the credentials from ${origin} but denies pushing to this repository`, {
        hint: `Ask for push rights on "${t.ref.repository}" or push to a repository this account owns, ${skip}`,
        cause: e,
      });
    return new KbError("REGISTRY_UNAUTHORIZED", `Cannot push to ${t.role} "${repo}": the registry "${host}" rejected the credentials from ${origin} (${why})`, {
      hint: `Check the user name and password (or token) in ${origin}; "kb login ${host}" rewrites them, ${skip}`,
      cause: e,
    });
  }
  if (status === undefined && code === "REGISTRY")
    return new KbError("REGISTRY", `Cannot push to ${t.role} "${repo}": the registry "${host}" cannot be reached (${why})`, {
      hint: `${(e as KbError).hint ?? `Check that "${host}" is up and the name is right`}, ${skip}`,
      cause: e,
      temporary: true,
    });
  return new KbError(code, `Cannot push to ${t.role} "${repo}": ${why}`, { hint: `${(e as KbError).hint ?? "Check the repository name"}, ${skip}`, cause: e });
}

async function probe(client: RegistryClient, ref: Reference, signal?: AbortSignal): Promise<void> {
  const base = { registry: ref.registry, repository: ref.repository, push: true, subject: ref.name(), signal };
  const started = await client.request({ ...base, method: "POST", path: `/v2/${ref.repository}/blobs/uploads/`, action: "start a test upload to", accept: [202] });
  await started.res.body?.cancel().catch(() => {});
  const loc = started.res.headers.get("location");
  if (!loc) return;
  const cancel = await client.request({ ...base, method: "DELETE", url: new URL(loc, started.url).toString(), action: "cancel the test upload to", accept: [200, 202, 204, 400, 404, 405] });
  await cancel.res.body?.cancel().catch(() => {});
}

/**
 * Checks that every target repository accepts a push: a push-scope token, then a blob upload started and
 * cancelled (nothing is stored). Each repository is checked once; the first failure throws a KbError that says
 * whether the registry is unreachable, the credentials are missing, rejected, or lack push rights, and where
 * the credentials came from.
 * @example await checkPushAccess(client, [{ ref: parseReference("localhost:5000/app:1"), role: "destination" }])
 */
export async function checkPushAccess(
  client: RegistryClient,
  targets: PushTarget[],
  opts: { signal?: AbortSignal; origin?: CredentialOrigin; env?: Record<string, string | undefined> } = {},
): Promise<void> {
  const env = opts.env ?? process.env;
  const origin = opts.origin ?? defaultCredentialOrigin(env);
  const seen = new Map<string, PushTarget>();
  for (const t of targets) if (!seen.has(t.ref.name())) seen.set(t.ref.name(), t);
  await Promise.all(
    [...seen.values()].map(async (t) => {
      try {
        await probe(client, t.ref, opts.signal);
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        throw explain(e, t, origin(t.ref.registry), env);
      }
    }),
  );
}
