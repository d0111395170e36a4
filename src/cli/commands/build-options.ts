// Turns parsed `kb build` flags into BuildOptions, validating each value once.

import { parseSize } from "./cache.ts";
import { KbError } from "../../errors.ts";
import type { BuildOptions, OutputSpec, SecretSpec } from "../../build/options.ts";
import type { Platform } from "../../image/types.ts";
import { parsePlatform } from "../../image/platform.ts";
import { flagReader, type ParsedFlags } from "../flags.ts";

/** Parses a Go-style duration ("10m", "1h30m", "250ms", "336h") into milliseconds. */
export function parseDuration(s: string, what: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (!s || consumed !== s.length) {
    throw new KbError("USAGE", `Cannot use ${what} "${s}": not a duration`, { hint: 'write it like "90s", "10m" or "1h30m"' });
  }
  return total;
}

function parsePlatformFlag(s: string): Platform[] {
  return s.split(",").map((p) => parsePlatform(p));
}

function parseKv(s: string, what: string): [string, string | undefined] {
  const i = s.indexOf("=");
  const k = i < 0 ? s : s.slice(0, i);
  if (!k) throw new KbError("USAGE", `Cannot use ${what} "${s}": the name is empty`, { hint: `write ${what} NAME=VALUE` });
  return [k, i < 0 ? undefined : s.slice(i + 1)];
}

function parseCsv(s: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(",")) {
    const [k, v] = parseKv(part.trim(), what);
    out[k] = v ?? "";
  }
  return out;
}

function parseSecret(s: string): SecretSpec {
  const f = parseCsv(s, "--secret");
  const id = f.id;
  if (!id) throw new KbError("USAGE", `Cannot use --secret "${s.replace(/=.*/, "=…")}": it has no id`, { hint: "--secret id=NAME,src=PATH or id=NAME,env=VAR" });
  if (f.src === undefined && f.source === undefined && f.env === undefined) return { id, env: id };
  return { id, src: f.src ?? f.source, env: f.env };
}

function parseOutput(s: string): OutputSpec {
  const f = parseCsv(s, "--output");
  const type = f.type ?? (s.includes("=") ? undefined : "local");
  if (type === "registry" || type === "image") {
    if (!f.name && f.push === "false") throw new KbError("USAGE", `Cannot use --output "${s}": nothing to push`);
    return { type: "registry", ref: f.name ?? "" };
  }
  if (type === "oci" || type === "docker") {
    const dest = f.dest;
    if (!dest) throw new KbError("USAGE", `Cannot use --output "${s}": it needs dest=PATH`, { hint: `--output type=${type},dest=${type === "oci" ? "DIR" : "FILE.tar"}` });
    return { type, dest, tag: f.name };
  }
  throw new KbError("USAGE", `Cannot use --output "${s}": unknown type "${type ?? ""}"`, { hint: "type=registry, type=oci,dest=DIR or type=docker,dest=FILE.tar" });
}

function intFlag(v: string | undefined, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new KbError("USAGE", `Cannot use ${what} "${v}": expected a whole number from ${min} to ${max}`);
  return n;
}

/** Resolves flags (and the environment, for bare build args and SOURCE_DATE_EPOCH) into BuildOptions. */
export function toBuildOptions(p: ParsedFlags, env: Record<string, string | undefined>): BuildOptions {
  const f = flagReader(p);
  if (p.positionals.length > 1) throw new KbError("USAGE", `Cannot use "${p.positionals[1]}": kb build takes one CONTEXT`, { hint: "flags go before or after CONTEXT; quote values with spaces" });
  const context = f.str("context") ?? p.positionals[0] ?? ".";
  const buildArgs = new Map<string, string>();
  for (const a of f.list("build-arg")) {
    const [k, v] = parseKv(a, "--build-arg");
    const val = v ?? env[k];
    if (val !== undefined) buildArgs.set(k, val);
  }
  const labels: Record<string, string> = {};
  for (const l of f.list("label")) {
    const [k, v] = parseKv(l, "--label");
    labels[k] = v ?? "";
  }
  const outputs = f.list("output").map(parseOutput);
  const tags = f.list("tag");
  for (const o of outputs) if (o.type === "registry" && o.ref) tags.push(o.ref);
  if (f.str("tar-path")) outputs.push({ type: "docker", dest: f.str("tar-path")! });
  if (f.str("oci-layout-path")) outputs.push({ type: "oci", dest: f.str("oci-layout-path")! });
  const isolation = f.str("isolation") ?? "auto";
  if (!["auto", "rootless", "root", "container"].includes(isolation)) throw new KbError("USAGE", `Cannot use --isolation "${isolation}"`, { hint: "auto, rootless, root or container" });
  const network = f.str("network") ?? "host";
  if (network !== "host" && network !== "none") throw new KbError("USAGE", `Cannot use --network "${network}"`, { hint: "host or none" });
  const compression = f.str("compression") ?? "gzip";
  if (compression !== "gzip" && compression !== "zstd") throw new KbError("USAGE", `Cannot use --compression "${compression}"`, { hint: "gzip or zstd" });
  const certificates: Record<string, string> = {};
  for (const c of f.list("registry-certificate")) {
    const [h, path] = parseKv(c, "--registry-certificate");
    if (!path) throw new KbError("USAGE", `Cannot use --registry-certificate "${c}": expected HOST=CA.pem`);
    certificates[h] = path;
  }
  const insecure = f.list("insecure-registry");
  const sde = env.SOURCE_DATE_EPOCH;
  const reproducible = f.bool("reproducible");
  const skipList = f.list("skip-tls-verify-registry");
  return {
    context,
    contextSubPath: f.str("context-sub-path"),
    dockerfile: f.str("file"),
    buildArgs,
    target: f.str("target"),
    platforms: f.str("platform") ? parsePlatformFlag(f.str("platform")!) : [],
    labels,
    secrets: f.list("secret").map(parseSecret),
    outputs,
    tags,
    noPush: f.bool("no-push"),
    digestFile: f.str("digest-file"),
    imageNameWithDigestFile: f.str("image-name-with-digest-file") ?? f.str("image-name-tag-with-digest-file"),
    cacheDir: f.str("cache-dir") ?? env.KB_CACHE_DIR,
    noCache: f.bool("no-cache") || (f.has("cache") && !f.bool("cache")),
    cacheRepo: f.str("cache-repo"),
    cacheTtlMs: f.str("cache-ttl") ? parseDuration(f.str("cache-ttl")!, "--cache-ttl") : undefined,
    registry: {
      insecure: f.bool("insecure") || f.bool("insecure-pull") ? [...insecure, "*"] : insecure,
      mirrors: f.list("registry-mirror"),
      certificates,
      skipTlsVerify: f.bool("skip-tls-verify") || f.bool("skip-tls-verify-pull") ? true : skipList.length ? skipList : false,
      pushRetries: intFlag(f.str("push-retry"), "--push-retry", 0, 100) ?? 3,
    },
    isolation: isolation as BuildOptions["isolation"],
    force: f.bool("force"),
    network,
    reproducible,
    sourceDateEpoch: sde !== undefined && sde !== "" ? intFlag(sde, "SOURCE_DATE_EPOCH", 0, 2 ** 40) : reproducible ? 0 : undefined,
    compression,
    compressionLevel: intFlag(f.str("compression-level"), "--compression-level", compression === "zstd" ? -7 : 0, compression === "zstd" ? 22 : 9),
    maxExtractBytes: parseSize(f.str("max-extract") ?? "64GiB", "--max-extract"),
    runTimeoutMs: f.str("timeout") ? parseDuration(f.str("timeout")!, "--timeout") : undefined,
    ignorePaths: f.list("ignore-path"),
    reportPath: f.str("report"),
    check: f.bool("check"),
  };
}
