// A flag table and its parser: repeatable flags, aliases (docker and Kaniko names), "did you mean" for typos.

import { KbError } from "../errors.ts";
import { suggest } from "../suggest.ts";

export interface FlagSpec {
  /** Canonical name without dashes, e.g. "tag". */
  name: string;
  /** Other long names and one-letter short names. */
  aliases?: string[];
  type: "string" | "boolean";
  repeatable?: boolean;
  /** Accepted for compatibility with a one-line notice; the value is ignored. */
  notice?: string;
  description: string;
  valueHint?: string;
  default?: string | boolean;
  /** Hidden from --help (still accepted). */
  hidden?: boolean;
  /** Words a boolean also takes after "=" (`--sbom=all-stages`); read back with `str()`. */
  inlineValues?: string[];
}

export interface ParsedFlags {
  values: Map<string, string[] | boolean>;
  positionals: string[];
  notices: string[];
}

function flagLabel(n: string): string {
  return n.length === 1 ? `-${n}` : `--${n}`;
}

/**
 * Parses argv against a flag table. Unknown flags are usage errors with a suggestion.
 * Booleans take no value (`--no-cache`) or `=true|false`; strings take `--f v` or `--f=v`.
 */
export function parseFlags(argv: string[], specs: FlagSpec[]): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of [s.name, ...(s.aliases ?? [])]) byName.set(n, s);
  const values = new Map<string, string[] | boolean>();
  const positionals: string[] = [];
  const notices: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    const long = a.startsWith("--");
    let body = a.slice(long ? 2 : 1);
    let inline: string | undefined;
    const eq = body.indexOf("=");
    if (eq >= 0) (inline = body.slice(eq + 1)), (body = body.slice(0, eq));
    if (!long && body.length > 1 && inline === undefined) {
      // -tfoo style: a short flag with its value attached
      inline = body.slice(1);
      body = body[0]!;
    }
    const spec = byName.get(body);
    if (!spec) {
      const s = suggest(body, [...byName.keys()].filter((n) => n.length > 1), { prefix: true });
      throw new KbError("USAGE", `Cannot use flag "${flagLabel(body)}": unknown flag`, {
        hint: s ? `did you mean --${s}? (see kb build --help)` : "see kb build --help",
      });
    }
    let value: string | boolean;
    if (spec.type === "boolean") {
      if (inline === undefined) value = true;
      else if (/^(true|1|yes)$/i.test(inline)) value = true;
      else if (/^(false|0|no)$/i.test(inline)) value = false;
      else if (spec.inlineValues?.includes(inline)) value = inline;
      else throw new KbError("USAGE", `Cannot use "${a}": ${flagLabel(body)} takes true or false${spec.inlineValues ? ` or ${spec.inlineValues.join(" or ")}` : ""}`);
    } else {
      if (inline !== undefined) value = inline;
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new KbError("USAGE", `Cannot use flag "${flagLabel(body)}": it needs a value`, { hint: spec.valueHint ? `${flagLabel(body)} ${spec.valueHint}` : undefined });
    }
    if (spec.notice) {
      notices.push(`${flagLabel(body)}: ${spec.notice}`);
    }
    if (spec.type === "string" && spec.repeatable) {
      const prev = values.get(spec.name);
      values.set(spec.name, [...(Array.isArray(prev) ? prev : []), value as string]);
    } else if (spec.type === "string" || typeof value === "string") {
      values.set(spec.name, [value as string]);
    } else {
      values.set(spec.name, value as boolean);
    }
  }
  return { values, positionals, notices };
}

/** Typed accessors over parsed flags. */
export function flagReader(p: ParsedFlags) {
  return {
    str(name: string): string | undefined {
      const v = p.values.get(name);
      return Array.isArray(v) ? v[v.length - 1] : undefined;
    },
    list(name: string): string[] {
      const v = p.values.get(name);
      return Array.isArray(v) ? v : [];
    },
    bool(name: string, dflt = false): boolean {
      const v = p.values.get(name);
      return typeof v === "boolean" ? v : dflt;
    },
    has(name: string): boolean {
      return p.values.has(name);
    },
  };
}

/** Renders a flag table as help text lines. */
export function renderFlagHelp(specs: FlagSpec[]): string {
  const rows = specs
    .filter((s) => !s.hidden)
    .map((s) => {
      const names = [s.name, ...(s.aliases ?? [])].map(flagLabel).join(", ");
      const hint = s.type === "string" ? ` ${s.valueHint ?? "VALUE"}` : "";
      return [`${names}${hint}`, `${s.description}${s.repeatable ? " (repeatable)" : ""}`] as const;
    });
  const w = Math.min(46, Math.max(...rows.map((r) => r[0].length)));
  return rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`).join("\n");
}
