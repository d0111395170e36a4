// Instruction flags (BuildKit instructions/bflag.go): typed --name=value parsing with "did you mean" hints.

import { KbError } from "../errors.ts";
import { suggest } from "../suggest.ts";

/** Kind of a flag: string needs =value, bool takes none or true/false, list is a repeatable string. */
export type FlagKind = "string" | "bool" | "list";

/** Parsed flag values: strings, booleans, or string lists; absent flags are missing. */
export interface FlagValues {
  strings: Map<string, string>;
  bools: Map<string, boolean>;
  lists: Map<string, string[]>;
}

/** Per-instruction extra hints for flags that exist on a sibling instruction. */
const MISPLACED: Record<string, string> = {
  "COPY --checksum": "--checksum is only valid for ADD (HTTP and git sources)",
  "COPY --keep-git-dir": "--keep-git-dir is only valid for ADD",
  "COPY --unpack": "--unpack is only valid for ADD",
  "ADD --from": "ADD has no --from; use COPY --from",
  "ADD --parents": "--parents is only valid for COPY",
};

function flagError(keyword: string, message: string, hint: string): KbError {
  return new KbError("DOCKERFILE_INSTRUCTION", `Cannot parse ${keyword}: ${message}`, { hint });
}

/** Parses `flags` (as stored in the node, with leading `--`) against `spec`. */
export function parseFlags(keyword: string, flags: readonly string[], spec: Record<string, FlagKind>): FlagValues {
  const out: FlagValues = { strings: new Map(), bools: new Map(), lists: new Map() };
  const seen = new Set<string>();
  for (const raw of flags) {
    if (!raw.startsWith("--")) throw flagError(keyword, `arg should start with -- : "${raw}"`, "write flags as --name=value");
    const body = raw.slice(2);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = spec[name];
    if (!kind) {
      const near = suggest(name, Object.keys(spec));
      const hint = MISPLACED[`${keyword} --${name}`] ??
        (near ? `did you mean --${near}?` : Object.keys(spec).length ? `${keyword} accepts ${Object.keys(spec).map((f) => "--" + f).join(", ")}` : `${keyword} takes no flags`);
      throw flagError(keyword, `unknown flag "--${name}"`, hint);
    }
    if (kind !== "list" && seen.has(name)) throw flagError(keyword, `duplicate flag specified "--${name}"`, `give --${name} once`);
    seen.add(name);
    if (kind === "bool") {
      if (value === undefined) out.bools.set(name, true);
      else if (value.toLowerCase() === "true") out.bools.set(name, true);
      else if (value.toLowerCase() === "false") out.bools.set(name, false);
      else throw flagError(keyword, `expecting boolean value for flag "--${name}", not "${value}"`, `write --${name}, --${name}=true or --${name}=false`);
      continue;
    }
    if (value === undefined) throw flagError(keyword, `missing a value on flag "--${name}"`, `write --${name}=<value>`);
    if (kind === "string") out.strings.set(name, value);
    else out.lists.set(name, [...(out.lists.get(name) ?? []), value]);
  }
  return out;
}
