// Shared helpers of the registry tests: a client configured for a test registry.
import { createRegistryClient, staticCredentials, type RegistryClientOptions } from "../../src/registry/index.ts";
import type { TestRegistry } from "../kit/registry-server.ts";

/** A client that trusts the registry's CA and knows its credentials. */
export function clientFor(reg: TestRegistry, extra: RegistryClientOptions = {}) {
  return createRegistryClient({
    caCerts: reg.caFile ? { [reg.host]: reg.caFile } : {},
    auth: staticCredentials(reg.username ? { [reg.host]: { username: reg.username, password: reg.password } } : {}),
    retryPolicy: { baseMs: 20, maxDelayMs: 200 },
    env: {},
    ...extra,
  });
}
