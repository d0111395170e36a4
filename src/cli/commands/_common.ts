// Shared pieces of pull, push, inspect, login, cache and doctor: flag parsing, registry client and store from flags.

import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { isKbError, KbError } from "../../errors.ts";
import type { Image } from "../../image/image.ts";
import { parsePlatform } from "../../image/platform.ts";
import { parseReference, type Reference } from "../../image/reference.ts";
import type { Platform } from "../../image/types.ts";
import { createReporter, type ProgressMode } from "../../log/reporter.ts";
import { fileFormats, type FileFormat, type FileFormatName } from "../../output/index.ts";
import { createRegistryClient, type ProgressEvent, type RegistryClient, type RegistryClientOptions } from "../../registry/index.ts";
import { defaultStoreDir, openStore, type Store } from "../../store/index.ts";
import { flagReader, parseFlags, renderFlagHelp, type FlagSpec } from "../flags.ts";
import type { CliIo } from "../io.ts";

/** The reader `flagReader` returns. */
export type Flags = ReturnType<typeof flagReader>;

/** Registry flags shared by pull, push, inspect and login (the same names as `kb build`). */
export const REGISTRY_FLAGS: FlagSpec[] = [
  { name: "insecure-registry", type: "string", repeatable: true, valueHint: "HOST[:PORT]", description: "Reach this registry over plain HTTP or without TLS verification" },
  { name: "registry-certificate", type: "string", repeatable: true, valueHint: "HOST=CA.pem", description: "Trust this CA for HOST" },
  { name: "registry-mirror", type: "string", repeatable: true, valueHint: "HOST", description: "Mirror for Docker Hub (tried first)" },
  { name: "skip-tls-verify", type: "boolean", description: "Do not verify the certificates of the registries named on the command line" },
];

/** `--help`, accepted by every command. */
export const HELP_FLAG: FlagSpec = { name: "help", aliases: ["h"], type: "boolean", description: "Show this help" };

/** `--progress` and `-q`, for commands that move blobs. */
export const PROGRESS_FLAGS: FlagSpec[] = [
  { name: "progress", type: "string", valueHint: "auto|plain|json", description: "Progress output on stderr", default: "auto" },
  { name: "quiet", aliases: ["q"], type: "boolean", description: "Print only the result" },
];

/** `--format text|json`, for commands with a machine-readable form. */
export const FORMAT_FLAG: FlagSpec = { name: "format", type: "string", valueHint: "text|json", description: "Output format", default: "text" };

/** A command's name, usage line, summary, flag table and how many positional arguments it takes. */
export interface CommandHelp {
  name: string;
  args: [min: number, max: number];
  usage: string;
  summary: string;
  specs: FlagSpec[];
}

/** Renders `kb <cmd> --help`. */
export function renderHelp(h: CommandHelp): string {
  return `${h.summary}\n\nUsage: ${h.usage}\n\nFlags:\n${renderFlagHelp(h.specs)}\n`;
}

/**
 * Parses argv against `h.specs` (plus --help) with the hint pointing at this command's help, and checks
 * the count of positional arguments.
 * @returns undefined when --help was printed (the caller returns 0)
 */
export function parseCommandFlags(argv: string[], h: CommandHelp, io: CliIo): { f: Flags; args: string[] } | undefined {
  const name = h.name;
  let parsed;
  try {
    parsed = parseFlags(argv, [...h.specs, HELP_FLAG]);
  } catch (e) {
    if (isKbError(e, "USAGE") && e.hint) e.hint = e.hint.replace("kb build --help", `kb ${name} --help`);
    throw e;
  }
  const f = flagReader(parsed);
  if (f.bool("help")) {
    io.out(renderHelp(h));
    return undefined;
  }
  for (const n of parsed.notices) io.err(`notice: ${n}\n`);
  const args = parsed.positionals;
  const [min, max] = h.args;
  if (args.length < min || args.length > max) {
    const what = args.length < min ? "missing arguments" : `unexpected argument "${args[max]}"`;
    throw new KbError("USAGE", `Cannot run "kb ${name}": ${what}`, { hint: `usage: ${h.usage}` });
  }
  return { f, args };
}

/** `--format`: "text" or "json". */
export function formatFromFlags(f: Flags): "text" | "json" {
  const format = f.str("format") ?? "text";
  if (format !== "text" && format !== "json") throw new KbError("USAGE", `Cannot use --format "${format}"`, { hint: "text or json" });
  return format;
}

/** CA files per host from `--registry-certificate HOST=CA.pem`. */
function caCertsOf(f: Flags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of f.list("registry-certificate")) {
    const i = c.indexOf("=");
    if (i <= 0 || i === c.length - 1) throw new KbError("USAGE", `Cannot use --registry-certificate "${c}": expected HOST=CA.pem`, { hint: "e.g. --registry-certificate registry.local:5000=/etc/ssl/registry-ca.pem" });
    out[c.slice(0, i)] = c.slice(i + 1);
  }
  return out;
}

/**
 * A registry client configured from the registry flags. `hosts` are the registries named on the command line:
 * `--skip-tls-verify` applies to them. Progress goes to `onProgress`.
 */
export function registryClientFromFlags(f: Flags, io: CliIo, hosts: string[], onProgress?: (ev: ProgressEvent) => void): RegistryClient {
  return createRegistryClient({ ...registryClientOptions(f, io, hosts), onProgress });
}

/** The client options the registry flags mean (see {@link registryClientFromFlags}). */
export function registryClientOptions(f: Flags, io: CliIo, hosts: string[]): RegistryClientOptions {
  const insecure = [...f.list("insecure-registry"), ...(f.bool("skip-tls-verify") ? hosts : [])];
  return { insecure, mirrors: f.list("registry-mirror"), caCerts: caCertsOf(f), env: io.env };
}

/** Progress for pulls and pushes, on stderr (nothing with -q). */
export function progressFromFlags(f: Flags, io: CliIo) {
  const mode = (f.bool("quiet") ? "quiet" : f.str("progress") ?? "auto") as ProgressMode;
  if (!["auto", "plain", "json", "quiet"].includes(mode)) throw new KbError("USAGE", `Cannot use --progress "${mode}"`, { hint: "auto, plain or json" });
  const reporter = createReporter({ mode, write: io.err, tty: io.isTTY });
  return { mode, reporter, onProgress: (ev: ProgressEvent) => reporter.emit({ type: "progress", ...ev }) };
}

/** The store named by `--cache-dir` (else $KB_CACHE_DIR, XDG cache, ~/.cache/kb). */
export function storeFromFlags(f: Flags, io: CliIo): Promise<Store> {
  const dir = f.str("cache-dir") ?? defaultStoreDir(io.env);
  return openStore(path.resolve(io.cwd, dir));
}

/** `--platform`, or undefined. */
export function platformFromFlags(f: Flags): Platform | undefined {
  const p = f.str("platform");
  return p === undefined || p === "all" ? undefined : parsePlatform(p);
}

/** Where an image is: a registry reference, or a file format's location (`oci:DIR[:TAG]`, `docker-archive:FILE[:TAG]`). */
export type ImageLocation =
  | { kind: "registry"; ref: Reference }
  | { kind: "file"; format: FileFormatName; path: string; tag?: string };

/**
 * Splits "PATH[:TAG]". Plain tags (oci:) have no ":" or "/", so the last colon splits; a reference suffix
 * (docker-archive: "repo:tag") splits at the first colon whose prefix is an existing file (else the first colon).
 * A PATH that exists whole is never split.
 */
function splitTag(text: string, cwd: string, suffixIsRef: boolean): { p: string; tag?: string } {
  const whole = { p: path.resolve(cwd, text) };
  if (existsSync(whole.p)) return whole;
  const colons = [...text.matchAll(/:/g)].map((m) => m.index!).filter((i) => i > 0 && i < text.length - 1);
  const at = suffixIsRef ? (colons.find((i) => existsSync(path.resolve(cwd, text.slice(0, i)))) ?? colons[0]) : colons.at(-1);
  if (at === undefined || (!suffixIsRef && text.slice(at + 1).includes("/"))) return whole;
  return { p: path.resolve(cwd, text.slice(0, at)), tag: text.slice(at + 1) };
}

/**
 * Parses an image location as skopeo writes it: a file format's transport prefix (src/output/index.ts
 * fileFormats) selects a file; anything else is a registry reference.
 * @example parseImageLocation("oci:out:v1", "/w") // { kind: "file", format: "oci", path: "/w/out", tag: "v1" }
 */
export function parseImageLocation(text: string, cwd: string): ImageLocation {
  for (const [name, ff] of Object.entries(fileFormats) as [FileFormatName, FileFormat][]) {
    const prefix = `${ff.transport}:`;
    if (!text.startsWith(prefix)) continue;
    const rest = text.slice(prefix.length);
    if (!rest) throw new KbError("USAGE", `Cannot use "${text}": the path is missing`, { hint: `write ${prefix}${ff.destHint}[:TAG]` });
    const { p, tag } = splitTag(rest, cwd, ff.tagIsReference);
    return { kind: "file", format: name, path: p, tag };
  }
  if (text.startsWith("docker://")) return { kind: "registry", ref: parseReference(text.slice(9)) };
  return { kind: "registry", ref: parseReference(text) };
}

/** How a location is named in messages: `oci:DIR:TAG` or the reference. */
export function locationName(loc: ImageLocation): string {
  return loc.kind === "registry" ? loc.ref.toString() : `${fileFormats[loc.format].transport}:${loc.path}${loc.tag ? `:${loc.tag}` : ""}`;
}

/** "1.2 MB" style sizes (powers of 1000, as docker prints them). */
export function formatBytes(n: number): string {
  const u = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) (n /= 1000), i++;
  return `${n.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}
