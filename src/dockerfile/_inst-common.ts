// Shared helpers of the typed-instruction parsers: errors with locations, chmod validation.

import { KbError } from "../errors.ts";
import type { Node } from "./_machine.ts";
import type { InstructionLocation } from "./instruction-types.ts";

/** What every instruction parser receives. */
export interface InstructionRequest {
  node: Node;
  keyword: string;
  location: InstructionLocation;
}

/** A DOCKERFILE_INSTRUCTION error for `keyword` ("Cannot parse RUN: …"). */
export function instError(keyword: string, message: string, hint: string): KbError {
  return new KbError("DOCKERFILE_INSTRUCTION", `Cannot parse ${keyword}: ${message}`, { hint });
}

const SYMBOLIC_MODE = /^[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+(?:,[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+)*$/;

/** Validates a --chmod value: octal 0..7777 or chmod(1) symbolic; values with `$` are checked after expansion. */
export function checkChmod(keyword: string, chmod: string): void {
  if (chmod.includes("$")) return;
  if (/^[0-7]+$/.test(chmod) && Number.parseInt(chmod, 8) <= 0o7777) return;
  if (!/^\d+$/.test(chmod) && SYMBOLIC_MODE.test(chmod)) return;
  throw instError(keyword, `invalid chmod parameter "${chmod}": it should be octal string and between 0 and 07777, or symbolic`, "write e.g. --chmod=755 or --chmod=u=rwx,go=rx");
}

/** BuildKit stage names: `^[a-z][a-z0-9-_.]*$` after lowercasing. */
export function checkStageName(name: string): void {
  if (!/^[a-z][a-z0-9-_.]*$/.test(name)) {
    throw instError("FROM", `invalid name for build stage: "${name}", name can't start with a number or contain symbols`, "name stages with letters, digits, -, _ and . starting with a letter");
  }
}
