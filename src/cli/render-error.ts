// Renders an error for people: error[CODE]: message, --> file:line, the source line, hint, causes.

import { readFileSync } from "node:fs";
import { KbError } from "../errors.ts";
import { printable } from "../log/terminal.ts";

function sourceLine(file: string, line: number): string | undefined {
  try {
    const text = readFileSync(file, "utf8");
    return text.split("\n")[line - 1]?.replace(/\r$/, "");
  } catch {
    return undefined;
  }
}

/** A full disk (ENOSPC, EDQUOT) anywhere in the cause chain becomes a STORE error that says so, not a "bug in kb". */
function diskFull(err: unknown): KbError | undefined {
  for (let c = err, depth = 0; c && depth < 6; depth++, c = (c as Error).cause) {
    const code = (c as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT")
      return new KbError("STORE", `Cannot write to disk: ${code === "ENOSPC" ? "no space left on the device" : "the disk quota is exceeded"} (${(c as Error).message})`, {
        hint: "Free space where --cache-dir and TMPDIR live (kb cache prune --keep-storage SIZE), or point --cache-dir at a bigger disk",
        location: err instanceof KbError ? err.location : undefined,
      });
  }
  return undefined;
}

export { printable } from "../log/terminal.ts";

/** Formats any thrown value; KbErrors get location, hint and cause chain, others their stack when `debug`. */
export function renderError(err: unknown, debug = false): string {
  if (!(err instanceof KbError) || err.code === "INTERNAL") err = diskFull(err) ?? err;
  if (!(err instanceof KbError)) {
    const e = err instanceof Error ? err : new Error(String(err));
    return `error[INTERNAL]: ${printable(e.message)}\n${debug && e.stack ? e.stack + "\n" : "hint: this is a bug in kb; rerun with --verbosity debug and report it\n"}`;
  }
  const out = [`error[${err.code}]: ${err.message}`];
  const loc = err.location;
  if (loc) {
    out.push(`  --> ${loc.file}:${loc.start.line}${loc.start.col > 1 ? `:${loc.start.col}` : ""}`);
    const src = err.locationOnly ? undefined : sourceLine(loc.file, loc.start.line);
    if (src !== undefined) {
      const n = String(loc.start.line);
      out.push(`${" ".repeat(n.length + 1)}|`, `${n} | ${src.length > 200 ? src.slice(0, 200) + "…" : src}`, `${" ".repeat(n.length + 1)}|`);
    }
  }
  if (err.hint) out.push(`hint: ${err.hint}`);
  let cause = (err as Error).cause;
  for (let depth = 0; cause && depth < 5; depth++) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    if (msg && !err.message.includes(msg)) out.push(`caused by: ${msg}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return printable(out.join("\n")) + "\n";
}

/** Exit code for an error: the one it carries (130/143 after a signal), 2 for usage errors, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  const carried = (err as { exitCode?: unknown } | undefined)?.exitCode;
  if (typeof carried === "number") return carried;
  return err instanceof KbError && err.code === "USAGE" ? 2 : 1;
}
