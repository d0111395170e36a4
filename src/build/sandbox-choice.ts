// Picks the RUN sandbox once per build, by probing (never guessing), and tells the user what was chosen.

import { chooseIsolation, createSandbox, probeIsolation, type IdMapping, type Sandbox } from "../exec/index.ts";
import type { EngineEnv } from "./engine-types.ts";

export type SandboxChoice = { mode: "container" } | { mode: "root" | "rootless"; sandbox: Sandbox; idMap?: IdMapping };

const chosen = new WeakMap<object, Promise<SandboxChoice>>();

/** The sandbox of this build (created on the first RUN). */
export function sandboxFor(env: EngineEnv): Promise<SandboxChoice> {
  let p = chosen.get(env.opts);
  if (!p) {
    p = (async () => {
      const report = await probeIsolation();
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
