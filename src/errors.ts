// KbError: the one error class of kb, with a code, a hint and a Dockerfile location.

/** Every failure kb reports has one of these codes (stable, for scripts and tests). */
export type KbErrorCode =
  | "USAGE"
  | "DOCKERFILE_SYNTAX"
  | "DOCKERFILE_INSTRUCTION"
  | "DOCKERFILE_EXPANSION"
  | "DOCKERIGNORE_SYNTAX"
  | "CONTEXT"
  | "REFERENCE_INVALID"
  | "REGISTRY"
  | "REGISTRY_UNAUTHORIZED"
  | "REGISTRY_NOT_FOUND"
  | "REGISTRY_PROTOCOL"
  | "MANIFEST_INVALID"
  | "PLATFORM_NOT_FOUND"
  | "EMULATOR_MISSING"
  | "BLOB_DIGEST_MISMATCH"
  | "BLOB_SIZE_MISMATCH"
  | "STORE"
  | "LAYER_INVALID"
  | "LAYER_EXTRACT"
  | "BUILD"
  | "RUN_FAILED"
  | "SANDBOX"
  | "SNAPSHOT"
  | "OUTPUT"
  | "CREDENTIALS"
  | "SIGNATURE_INVALID"
  | "INTERNAL";

/** A position in a source file; lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  start: { line: number; col: number };
  end: { line: number; col: number };
}

export interface KbErrorOptions {
  hint?: string;
  location?: SourceLocation;
  cause?: unknown;
  /** For registry and I/O failures: worth retrying. */
  temporary?: boolean;
  /** Print the location only, never the line there (the file may not be a Dockerfile, e.g. --file /etc/shadow). */
  locationOnly?: boolean;
}

/**
 * The error kb throws. Messages follow "Cannot <action>: <state>", values in quotes.
 * @example throw new KbError("DOCKERFILE_SYNTAX", 'Cannot parse "FROM": missing image', { hint: "write FROM <image>" })
 */
export class KbError extends Error {
  readonly code: KbErrorCode;
  hint?: string;
  location?: SourceLocation;
  temporary: boolean;
  locationOnly?: boolean;
  constructor(code: KbErrorCode, message: string, opts: KbErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "KbError";
    this.code = code;
    this.hint = opts.hint;
    this.location = opts.location;
    this.temporary = opts.temporary ?? false;
    if (opts.locationOnly) this.locationOnly = true;
  }
}

/** Attaches a location to an error unless it already has one (an inner location wins). */
export function withLocation<E>(err: E, location: SourceLocation): E {
  if (err instanceof KbError) {
    if (!err.location) err.location = location;
    return err;
  }
  const wrapped = new KbError("INTERNAL", err instanceof Error ? err.message : String(err), { location, cause: err });
  return wrapped as unknown as E;
}

/** True when `e` is a KbError with the given code. */
export function isKbError(e: unknown, code?: KbErrorCode): e is KbError {
  return e instanceof KbError && (code === undefined || e.code === code);
}
