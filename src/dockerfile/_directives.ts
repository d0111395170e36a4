// Parser directives at the top of a Dockerfile (# syntax=, # escape=, # check=), as in BuildKit directives.go.

import { KbError } from "../errors.ts";

/** Parser directives found at the top of the file. */
export interface Directives {
  syntax?: string;
  /** The escape token, `\` unless `# escape=` says otherwise. */
  escape: string;
  check?: string;
}

const RE_DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const VALID = new Set(["syntax", "escape", "check"]);

/** Stateful directive scanner: feed it each line; it stops at the first line that is not a directive. */
export class DirectiveScanner {
  readonly directives: Directives = { escape: "\\" };
  private done = false;
  private readonly seen = new Set<string>();

  /** Returns true when `line` was a directive. Throws on a repeated directive or a bad escape token. */
  scan(line: string): boolean {
    if (this.done) return false;
    const m = RE_DIRECTIVE.exec(line);
    const key = m?.[1]!.toLowerCase();
    if (!m || !key || !VALID.has(key)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) {
      throw new KbError("DOCKERFILE_SYNTAX", `Cannot parse directive "${key}": only one ${key} parser directive can be used`, {
        hint: `remove the second "# ${key}=" line`,
      });
    }
    this.seen.add(key);
    const value = m[2]!;
    if (key === "escape") {
      if (value !== "`" && value !== "\\") {
        throw new KbError("DOCKERFILE_SYNTAX", `Cannot use escape token "${value}": invalid ESCAPE, must be \` or \\`, {
          hint: "write # escape=` or # escape=\\",
        });
      }
      this.directives.escape = value;
    } else this.directives[key as "syntax" | "check"] = value;
    return true;
  }
}
