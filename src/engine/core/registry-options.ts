// Registry client options from build options: insecure hosts, mirrors, CAs, credentials, retries.

import type { EventSink } from "../../log/events.ts";
import { defaultCredentials, type RegistryClientOptions } from "../../registry/index.ts";
import type { BuildOptions } from "./options.ts";

export function registryClientOptions(opts: BuildOptions, env: Record<string, string | undefined>, sink?: EventSink): RegistryClientOptions {
  const skip = opts.registry.skipTlsVerify;
  return {
    insecure: [...opts.registry.insecure, ...(Array.isArray(skip) ? skip : skip ? ["*"] : [])],
    mirrors: opts.registry.mirrors,
    caCerts: opts.registry.certificates,
    clientCerts: opts.registry.clientCerts,
    registryMap: opts.registry.registryMap,
    skipDefaultFallback: opts.registry.skipDefaultFallback,
    auth: defaultCredentials(env),
    retries: Math.max(opts.registry.pushRetries, opts.registry.pullRetries ?? 0),
    env,
    onProgress: sink ? (ev) => sink.emit({ type: "progress", id: ev.id, action: ev.action, done: ev.done, total: ev.total, finished: ev.finished }) : undefined,
  };
}
