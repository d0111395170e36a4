// The RUN sandbox: namespaces + overlayfs through the kb-sandbox helper, the isolation ladder, container mode.

export type { IdMapping, IdRange, IsolationMode, RunOptions, RunResult, RunSpec, Sandbox, SandboxMount } from "./types.ts";
export { createSandbox, type SandboxOptions } from "./sandbox.ts";
export { helperArch, helperCacheDir, resolveHelperPath } from "./helper-path.ts";
export { chooseIsolation, formatIsolationReport, probeIsolation, usernsAdvice, type IsolationChoice, type IsolationReport, type ProbeResult } from "./isolation.ts";
export { hostToContainer, singleIdMapping, subidMapping } from "./ids.ts";
export { containerSkipPaths, createContainerRun, runInContainer, type ContainerRun, type ContainerRunSpec } from "./container-mode.ts";
export { parseUnlockOutput, relockTree, removeTree, unlockTree, type ModeOverrides, type TreeAccessOptions } from "./tree-access.ts";
export { findPasta, HOST_NETWORK_WARNING, pastaBlocker, resolveNetwork, type NetworkRequest, type RunNetwork } from "./network.ts";
export { detectContainer, hasCapSysAdmin, parseSubIds } from "./_host-facts.ts";
