// `kb doctor`: probes what this machine allows and shows how RUN would be isolated (or why it cannot be).

import { isKbError, KbError } from "../../errors.ts";
import { chooseIsolation, formatIsolationReport, probeIsolation, type IsolationChoice, type IsolationMode } from "../../exec/index.ts";
import type { CliIo } from "../io.ts";
import { formatFromFlags, FORMAT_FLAG, parseCommandFlags, type CommandHelp } from "./_common.ts";

const DOCTOR: CommandHelp = {
  name: "doctor",
  args: [0, 0],
  usage: "kb doctor [--isolation auto|rootless|root|container] [--force]",
  summary: "Show how RUN will be isolated on this machine, and what to change when it cannot be",
  specs: [
    { name: "isolation", type: "string", valueHint: "auto|rootless|root|container", description: "Show what this mode would do", default: "auto" },
    { name: "force", type: "boolean", description: "As kb build --force: allow container mode outside a container" },
    FORMAT_FLAG,
  ],
};

const MODES = ["auto", "rootless", "root", "container"];

/** `kb doctor`: exit 0 when the mode asked for works here, 1 when it does not (the report says why). */
export async function runDoctor(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, DOCTOR, io);
  if (!p) return 0;
  const { f } = p;
  const mode = f.str("isolation") ?? "auto";
  if (!MODES.includes(mode)) throw new KbError("USAGE", `Cannot use --isolation "${mode}"`, { hint: MODES.join(", ") });
  const format = formatFromFlags(f);
  const report = await probeIsolation({ helperPath: io.env.KB_SANDBOX_HELPER || undefined });
  let choice: IsolationChoice | undefined;
  let failure: KbError | undefined;
  try {
    choice = chooseIsolation(mode as "auto" | IsolationMode, report, { force: f.bool("force") });
  } catch (e) {
    if (!isKbError(e)) throw e;
    failure = e;
  }
  if (format === "json") {
    io.out(`${JSON.stringify({ requested: mode, report, choice, error: failure && { code: failure.code, message: failure.message, hint: failure.hint } }, null, 2)}\n`);
  } else {
    io.out(`${formatIsolationReport(report, choice)}\n`);
    io.out(failure ? `  --isolation ${mode}: not possible here: ${failure.message}\n${failure.hint ? `  fix: ${failure.hint}\n` : ""}` : `  --isolation ${mode} → ${choice!.mode}\n`);
  }
  return failure ? 1 : 0;
}
