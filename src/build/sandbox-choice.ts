// Picks the RUN sandbox once per build, by probing (never guessing), and tells the user what was chosen.

import { KbError } from "../errors.ts";
import { chooseIsolation, createSandbox, probeIsolation, type IdMapping, type Sandbox } from "../exec/index.ts";
import type { EngineEnv } from "./engine-types.ts";

const chosen = new WeakMap<object, Promise<{ sandbox: Sandbox; idMap?: IdMapping }>>();

/** The sandbox of this build (created on the first RUN). */
export function sandboxFor(env: EngineEnv): Promise<{ sandbox: Sandbox; idMap?: IdMapping }> {
  let p = chosen.get(env.opts);
  if (!p) {
    p = (async () => {
      const report = await probeIsolation();
      const choice = chooseIsolation(env.opts.isolation, report, { force: env.opts.force });
      for (const w of choice.warnings) env.sink.emit({ type: "warning", message: w });
      if (choice.mode === "container") {
        throw new KbError("SANDBOX", "Cannot run RUN in container mode from a build with a registry base yet", { hint: "run kb where user namespaces are allowed, or as root" });
      }
      env.sink.emit({ type: "info", message: `RUN isolation: ${choice.mode}${choice.idMap ? ` (${choice.idMap.uids.reduce((n, r) => n + r.count, 0)} ids)` : ""}` });
      return { sandbox: createSandbox({ isolation: choice.mode, idMap: choice.idMap }), idMap: choice.idMap };
    })();
    chosen.set(env.opts, p);
  }
  return p;
}
