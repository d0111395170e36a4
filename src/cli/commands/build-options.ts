// Turns parsed `kb build` flags into BuildOptions, validating each value once.

import { KbError } from "../../errors.ts";
import { COMPRESSION_ALGORITHMS, LEVEL_RANGE, type CompressionAlgorithm } from "../../layer/index.ts";
import { statSync } from "node:fs";
import { isIP } from "node:net";
import type { BuildOptions, ExtraHost, OutputSpec, SecretSpec, SshSpec } from "../../engine/core/options.ts";
import type { Platform } from "../../image/types.ts";
import { parsePlatform } from "../../image/platform.ts";
import { fileFormatOf, fileFormats, type FileFormatName } from "../../output/index.ts";
import { flagReader, type ParsedFlags } from "../flags.ts";
import { parseSize } from "./cache.ts";
import { parseShmSize, parseUlimits } from "./run-limits.ts";
import { toAttestOptions } from "./attest-flags.ts";

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

/** `--ssh default`, `--ssh ID`, `--ssh ID=SOCKET`: agent sockets only (Docker also loads key files into an agent of its own). */
function parseSsh(s: string, env: Record<string, string | undefined>): SshSpec {
  const [id, paths] = parseKv(s, "--ssh");
  const socket = (paths ?? env.SSH_AUTH_SOCK ?? "").split(",")[0]!;
  if (!socket) throw new KbError("USAGE", `Cannot use --ssh "${s}": SSH_AUTH_SOCK is not set`, { hint: "start ssh-agent and ssh-add a key, or give the socket: --ssh default=/path/to/agent.sock" });
  let isSocket = false;
  try {
    isSocket = statSync(socket).isSocket();
  } catch { /* reported below */ }
  if (!isSocket) {
    throw new KbError("USAGE", `Cannot use --ssh "${id}": "${socket}" is not an ssh-agent socket`, {
      hint: "kb forwards agent sockets, not key files: run ssh-agent, ssh-add the key, and pass --ssh default (or ID=$SSH_AUTH_SOCK)",
    });
  }
  return { id, socket };
}

/** `--add-host HOST:IP` (or HOST=IP): the IP may be IPv6, so the split is at the first separator. */
function parseAddHost(s: string): ExtraHost {
  const at = s.search(/[:=]/);
  const host = at > 0 ? s.slice(0, at) : "";
  const ip = at > 0 ? s.slice(at + 1).replace(/^\[|\]$/g, "") : "";
  if (!host || /\s/.test(host) || isIP(ip) === 0) {
    throw new KbError("USAGE", `Cannot use --add-host "${s}": expected HOST:IP with a literal IPv4 or IPv6 address`, { hint: "e.g. --add-host registry.local:10.0.0.5 (host-gateway is not supported)" });
  }
  return { host, ip };
}

function parseOutput(s: string): OutputSpec {
  const f = parseCsv(s, "--output");
  const type = f.type ?? (s.includes("=") ? undefined : "local");
  if (type === "registry" || type === "image") {
    if (!f.name && f.push === "false") throw new KbError("USAGE", `Cannot use --output "${s}": nothing to push`);
    const byDigest = f["push-by-digest"];
    if (byDigest !== undefined && !/^(true|false)$/.test(byDigest)) throw new KbError("USAGE", `Cannot use --output "${s}": push-by-digest takes true or false`);
    if (byDigest === "true" && !f.name) throw new KbError("USAGE", `Cannot use --output "${s}": push-by-digest needs name=REGISTRY/REPO`);
    return { type: "registry", ref: f.name ?? "", ...(byDigest === "true" ? { pushByDigest: true } : {}) };
  }
  const format = type === undefined ? undefined : fileFormatOf(type);
  if (format) {
    const dest = f.dest;
    if (!dest) throw new KbError("USAGE", `Cannot use --output "${s}": it needs dest=PATH`, { hint: `--output type=${type},dest=${format.destHint}` });
    return { type: type as FileFormatName, dest, tag: f.name };
  }
  const files = Object.entries(fileFormats).map(([name, ff]) => `type=${name},dest=${ff.destHint}`);
  throw new KbError("USAGE", `Cannot use --output "${s}": unknown type "${type ?? ""}"`, { hint: `type=registry, ${files.slice(0, -1).join(", ")}${files.length > 1 ? " or " : ""}${files.at(-1)}` });
}

function intFlag(v: string | undefined, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new KbError("USAGE", `Cannot use ${what} "${v}": expected a whole number from ${min} to ${max}`);
  return n;
}

const sizeOf = (v: string | undefined, what: string) => (v === undefined || v === "" ? undefined : parseSize(v, what));
/**
 * Kaniko's object-store contexts as the https URLs kb fetches: gs://B[/O] → storage.googleapis.com, s3://B/O →
 * B.s3.amazonaws.com (public or pre-signed objects). Without an object, Kaniko's default "context.tar.gz".
 */
export function cloudContext(context: string): string {
  const m = /^(gs|s3):\/\/([^/]+)\/?(.*)$/.exec(context);
  if (!m) return context;
  const [, scheme, bucket, object] = m;
  const item = object || "context.tar.gz";
  return scheme === "gs" ? `https://storage.googleapis.com/${bucket}/${item}` : `https://${bucket}.s3.amazonaws.com/${item}`;
}

/** Kaniko's --git "branch=B,single-branch=…": a git context gets "#B" unless its URL names a ref already. */
function withGitBranch(context: string, git: string | undefined): string {
  if (!git) return context;
  const branch = parseCsv(git, "--git").branch;
  if (!branch) throw new KbError("USAGE", `Cannot use --git "${git}": it names no branch`, { hint: "--git branch=main" });
  if (!/^(git:\/\/|git@|https?:\/\/.*\.git\b)/.test(context)) throw new KbError("USAGE", `Cannot use --git: the context "${context}" is not a git repository URL`, { hint: "--context git://host/repo.git --git branch=main" });
  return context.includes("#") ? context : `${context}#${branch}`;
}

/** Resolves flags (and the environment, for bare build args and SOURCE_DATE_EPOCH) into BuildOptions. */
export function toBuildOptions(p: ParsedFlags, env: Record<string, string | undefined>): BuildOptions {
  const f = flagReader(p);
  if (p.positionals.length > 1) throw new KbError("USAGE", `Cannot use "${p.positionals[1]}": kb build takes one CONTEXT`, { hint: "flags go before or after CONTEXT; quote values with spaces" });
  const bucket = f.str("bucket");
  const context = withGitBranch(cloudContext(f.str("context") ?? (bucket ? (bucket.includes("://") ? bucket : `gs://${bucket}`) : undefined) ?? p.positionals[0] ?? "."), f.str("git"));
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
  const network = f.str("network") ?? "default";
  if (network !== "default" && network !== "sandbox" && network !== "host" && network !== "none") {
    throw new KbError("USAGE", `Cannot use --network "${network}"`, { hint: "default, sandbox, host or none" });
  }
  const compression = (f.str("compression") ?? "gzip") as CompressionAlgorithm;
  if (!COMPRESSION_ALGORITHMS.includes(compression)) throw new KbError("USAGE", `Cannot use --compression "${compression}"`, { hint: COMPRESSION_ALGORITHMS.join(" or ") });
  const certificates: Record<string, string> = {};
  for (const c of f.list("registry-certificate")) {
    const [h, path] = parseKv(c, "--registry-certificate");
    if (!path) throw new KbError("USAGE", `Cannot use --registry-certificate "${c}": expected HOST=CA.pem`);
    certificates[h] = path;
  }
  const insecure = f.list("insecure-registry");
  const clientCerts: Record<string, { cert: string; key: string }> = {};
  for (const c of f.list("registry-client-cert").flatMap((v) => v.split(";")).filter(Boolean)) {
    const [h, files] = parseKv(c, "--registry-client-cert");
    const [cert, key, extra] = (files ?? "").split(",");
    if (!cert || !key || extra !== undefined) throw new KbError("USAGE", `Cannot use --registry-client-cert "${c}": expected HOST=CERT.pem,KEY.pem`);
    clientCerts[h] = { cert, key };
  }
  const registryMap: Record<string, string[]> = {};
  for (const m of f.list("registry-map").flatMap((v) => v.split(";")).filter(Boolean)) {
    const [reg, mirror] = parseKv(m, "--registry-map");
    if (!mirror) throw new KbError("USAGE", `Cannot use --registry-map "${m}": expected REGISTRY=MIRROR`, { hint: "e.g. --registry-map index.docker.io=mirror.example:5000" });
    (registryMap[reg] ??= []).push(mirror);
  }
  // buildx's cache exporters write BuildKit cache manifests; kb neither reads nor writes those, and silently
  // building without the cache the script asked for would be worse than saying so.
  for (const name of ["cache-from", "cache-to"]) {
    if (f.has(name)) {
      throw new KbError("USAGE", `Cannot use --${name} "${f.list(name)[0]}": kb does not read or write BuildKit cache manifests`, {
        hint: "share kb's step cache through a registry repository with --cache-repo REGISTRY/REPO (one image per step, as Kaniko), or keep --cache-dir on a volume that outlives the job",
      });
    }
  }
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
    ssh: f.list("ssh").map((v) => parseSsh(v, env)),
    extraHosts: f.list("add-host").map(parseAddHost),
    ulimits: parseUlimits(f.list("ulimit")),
    shmSize: f.str("shm-size") === undefined ? undefined : parseShmSize(f.str("shm-size")!),
    outputs,
    tags,
    pushByDigest: outputs.some((o) => o.type === "registry" && o.pushByDigest === true),
    noPush: f.bool("no-push"),
    digestFile: f.str("digest-file"),
    iidFile: f.str("iidfile"),
    imageNameWithDigestFile: f.str("image-name-with-digest-file"),
    imageNameTagWithDigestFile: f.str("image-name-tag-with-digest-file"),
    cacheDir: f.str("cache-dir") ?? env.KB_CACHE_DIR,
    noCache: f.bool("no-cache") || (f.has("cache") && !f.bool("cache")),
    cacheRepo: f.str("cache-repo"),
    cacheTtlMs: f.str("cache-ttl") ? parseDuration(f.str("cache-ttl")!, "--cache-ttl") : undefined,
    registry: {
      insecure: f.bool("insecure") || f.bool("insecure-pull") ? [...insecure, "*"] : insecure,
      // Kaniko also takes a mirror from KANIKO_REGISTRY_MIRROR.
      mirrors: [...f.list("registry-mirror"), ...(env.KANIKO_REGISTRY_MIRROR ? [env.KANIKO_REGISTRY_MIRROR] : [])],
      certificates,
      skipTlsVerify: f.bool("skip-tls-verify") || f.bool("skip-tls-verify-pull") ? true : skipList.length ? skipList : false,
      pushRetries: intFlag(f.str("push-retry"), "--push-retry", 0, 100) ?? 3,
      pullRetries: intFlag(f.str("image-download-retry"), "--image-download-retry", 0, 100),
      clientCerts,
      registryMap,
      skipDefaultFallback: f.bool("skip-default-registry-fallback"),
      ignoreImmutableTags: f.bool("push-ignore-immutable-tag-errors"),
    },
    isolation: isolation as BuildOptions["isolation"],
    force: f.bool("force"),
    network,
    reproducible,
    singleSnapshot: f.bool("single-snapshot"),
    sourceDateEpoch: sde !== undefined && sde !== "" ? intFlag(sde, "SOURCE_DATE_EPOCH", 0, 2 ** 40) : reproducible ? 0 : undefined,
    compression,
    compressionLevel: intFlag(f.str("compression-level"), "--compression-level", ...LEVEL_RANGE[compression]),
    maxExtractBytes: parseSize(f.str("max-extract") ?? "64GiB", "--max-extract"),
    runTimeoutMs: f.str("timeout") ? parseDuration(f.str("timeout")!, "--timeout") : undefined,
    maxDownloadBytes: sizeOf(f.str("max-download") ?? env.KB_MAX_DOWNLOAD, "--max-download"),
    hostResolvConf: env.KB_HOST_RESOLV_CONF || undefined,
    maxWordBytes: sizeOf(f.str("max-word-size") ?? env.KB_MAX_WORD_SIZE, "--max-word-size"),
    cacheMaxBytes: sizeOf(f.str("cache-max-size") ?? env.KB_CACHE_MAX_SIZE, "--cache-max-size"),
    attest: toAttestOptions(f),
    ignorePaths: [...f.list("ignore-path"), ...(f.bool("ignore-var-run") ? ["/var/run"] : [])],
    extractRetries: intFlag(f.str("image-fs-extract-retry"), "--image-fs-extract-retry", 0, 100) ?? 0,
    reportPath: f.str("report"),
    check: f.bool("check"),
    skipPushCheck: f.bool("skip-push-permission-check"),
  };
}
