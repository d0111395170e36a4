// Picks the RUN sandbox once per build, by probing (never guessing), and tells the user what was chosen.

import { KbError } from "../../errors.ts";
import { chooseIsolation, createSandbox, findPasta, probeIsolation, resolveNetwork, type NetworkRequest, type RunNetwork, type Sandbox } from "../../exec/index.ts";
import type { IdMapping } from "../../helper/index.ts";
import type { EngineEnv } from "./engine-types.ts";

export type SandboxChoice = { mode: "container" } | { mode: "root" | "rootless"; sandbox: Sandbox; idMap?: IdMapping };

const chosen = new WeakMap<object, Promise<SandboxChoice>>();

/** The sandbox of this build (created on the first RUN). */
export function sandboxFor(env: EngineEnv): Promise<SandboxChoice> {
  let p = chosen.get(env.opts);
  if (!p) {
    p = (async () => {
      const report = await probeIsolation();
      // Ctrl-C during the probe kills its helpers, which then look like a host without namespaces: say interrupted.
      env.signal.throwIfAborted();
      const choice = chooseIsolation(env.opts.isolation, report, { force: env.opts.force });
      for (const w of choice.warnings) env.sink.emit({ type: "warning", message: w });
      env.sink.emit({ type: "info", message: `RUN isolation: ${choice.mode}${choice.idMap ? ` (${choice.idMap.uids.reduce((n, r) => n + r.count, 0)} ids)` : ""}` });
      if (choice.mode === "container") return { mode: "container" as const };
      return { mode: choice.mode, sandbox: createSandbox({ isolation: choice.mode, idMap: choice.idMap }), idMap: choice.idMap };
    })();
    chosen.set(env.opts, p);
  }
  return p;
}

const warned = new WeakSet<object>();

/**
 * The network a RUN gets: `RUN --network=host` needs `--network host` on the command line (BuildKit's
 * network.host entitlement); "default" is the isolated network when pasta is installed, else the host's
 * with one warning per build.
 */
export function runNetworkFor(env: EngineEnv, inst: { network?: "default" | "none" | "host" }): { network: RunNetwork; pastaPath?: string } {
  if (inst.network === "host" && env.opts.network !== "host") {
    throw new KbError("USAGE", "Cannot run RUN --network=host: the host network is not allowed for this build", {
      hint: "pass --network host to allow it (as BuildKit's --allow network.host entitlement)"
    });
  }
  const req: NetworkRequest = inst.network === "none" ? "none" : inst.network === "host" ? "host" : env.opts.network;
  const pastaPath = req === "default" || req === "sandbox" ? findPasta() : undefined;
  const r = resolveNetwork(req, pastaPath);
  if (!warned.has(env.opts)) {
    warned.add(env.opts);
    if (r.warning) env.sink.emit({ type: "warning", message: r.warning });
    env.sink.emit({ type: "info", message: `RUN network: ${r.network}${r.network === "sandbox" ? " (own network namespace through pasta)" : ""}` });
  }
  return { network: r.network, pastaPath };
}

/** Lets go of the build's sandbox resources (the root-mode network namespace and its pasta). */
export async function closeSandbox(env: { opts: object }): Promise<void> {
  const p = chosen.get(env.opts);
  if (!p) return;
  chosen.delete(env.opts);
  const c = await p.catch(() => undefined);
  if (c && c.mode !== "container") await c.sandbox.close?.();
}
