// The RUN sandbox: namespaces + overlayfs through the kb-sandbox helper, the isolation ladder, container mode.
// The helper's client (its path, id maps, tree operations) is src/helper/.

export type { IsolationMode, RunOptions, RunResult, RunSpec, Sandbox, SandboxMount } from "./types.ts";
export { createSandbox, type SandboxOptions } from "./sandbox.ts";
export { chooseIsolation, formatIsolationReport, probeIsolation, usernsAdvice, type IsolationChoice, type IsolationReport, type ProbeResult } from "./isolation.ts";
export { containerSkipPaths, createContainerRun, runInContainer, type ContainerRun, type ContainerRunSpec } from "./container-mode.ts";
export { DEFAULT_NAMESERVERS, hostResolvConf, runResolvConf } from "./resolv-conf.ts";
export { findPasta, HOST_NETWORK_WARNING, pastaBlocker, resolveNetwork, type NetworkRequest, type RunNetwork } from "./network.ts";
export { detectContainer, hasCapSysAdmin, parseSubIds } from "./_host-facts.ts";
