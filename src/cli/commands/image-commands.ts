// `kb pull`, `kb push` and `kb inspect`: move and describe images between registries, the store and files.

import { printable, printableJson } from "../../log/terminal.ts";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { KbError } from "../../errors.ts";
import { assembleIndex, imageEntries, imageForPlatform, isImageIndex } from "../../image/assemble-index.ts";
import type { Image, ImageIndex } from "../../image/image.ts";
import { formatPlatform, hostPlatform } from "../../image/platform.ts";
import { parseReference, type Reference } from "../../image/reference.ts";
import { MediaType, type Digest, type Platform } from "../../image/types.ts";
import { fileFormats } from "../../output/index.ts";
import { registrySink, registrySource, type RegistryClient } from "../../registry/index.ts";
import { putImage, takeLease } from "../../store/index.ts";
import type { CliIo } from "../io.ts";
import {
  formatBytes, formatFromFlags, FORMAT_FLAG, parseCommandFlags, parseImageLocation, platformFromFlags, progressFromFlags, locationName,
  registryClientFromFlags, REGISTRY_FLAGS, PROGRESS_FLAGS, storeFromFlags, type CommandHelp, type Flags, type ImageLocation,
} from "./_common.ts";

const PLATFORM_FLAG = { name: "platform", type: "string", valueHint: "os/arch[/variant]", description: "Platform to pick from a multi-platform image (default: this host's)" } as const;
const CACHE_DIR_FLAG = { name: "cache-dir", type: "string", valueHint: "DIR", description: "Store to pull into (default ~/.cache/kb)" } as const;
const DIGEST_FILE_FLAG = { name: "digest-file", type: "string", valueHint: "FILE", description: "Write the image digest to FILE" } as const;

const PULL: CommandHelp = {
  name: "pull",
  args: [1, 1],
  usage: "kb pull REF [--oci DIR] [--platform P|all] [flags]",
  summary: "Pull an image into the store (verified), or into an OCI layout with --oci",
  specs: [
    { name: "oci", type: "string", valueHint: "DIR", description: "Write an OCI layout at DIR, tagged with the reference's tag" },
    { ...PLATFORM_FLAG, description: `${PLATFORM_FLAG.description}; "all" keeps every platform (with --oci)` },
    CACHE_DIR_FLAG, DIGEST_FILE_FLAG, ...PROGRESS_FLAGS, ...REGISTRY_FLAGS,
  ],
};

const PUSH: CommandHelp = {
  name: "push",
  args: [2, 2],
  usage: "kb push SRC REF   (SRC: oci:DIR[:TAG] | docker-archive:FILE | a registry reference)",
  summary: "Push an image from an OCI layout, a docker-archive or another registry; prints the digest",
  specs: [{ ...PLATFORM_FLAG, description: "Push only this platform of a multi-platform source (default: all of an OCI index)" }, DIGEST_FILE_FLAG, ...PROGRESS_FLAGS, ...REGISTRY_FLAGS],
};

const INSPECT: CommandHelp = {
  name: "inspect",
  args: [1, 1],
  usage: "kb inspect REF|oci:DIR[:TAG]|docker-archive:FILE [--raw | --config] [--format json]",
  summary: "Show an image's digest, platforms, layers and config",
  specs: [
    { name: "raw", type: "boolean", description: "Print the manifest (or index) bytes exactly as stored" },
    { name: "config", type: "boolean", description: "Print the image config JSON" },
    { name: "attestations", type: "boolean", description: "List the SBOM and provenance statements attached (JSON: with the statements)" },
    FORMAT_FLAG,
    PLATFORM_FLAG, ...REGISTRY_FLAGS,
  ],
};

async function writeDigestFile(f: Flags, io: CliIo, digest: string): Promise<void> {
  const file = f.str("digest-file");
  if (file) await writeFile(path.resolve(io.cwd, file), digest);
}

/** The store's cache-record key that keeps a pulled image alive (prune treats records as roots). */
function pullRecordKey(ref: Reference, platform: Platform): string {
  return createHash("sha256").update(`pulled-image\0${ref}\0${formatPlatform(platform)}`).digest("hex");
}

/** `kb pull REF [--oci DIR] [--platform P|all]`: prints the manifest (or index) digest. */
export async function runPull(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, PULL, io);
  if (!p) return 0;
  const { f } = p;
  const ref = parseReference(p.args[0]!);
  const progress = progressFromFlags(f, io);
  const client = registryClientFromFlags(f, io, [ref.registry], progress.onProgress);
  const oci = f.str("oci") === undefined ? undefined : path.resolve(io.cwd, f.str("oci")!);
  let digest: Digest;
  const tags = ref.tag ? [ref.tag] : [];
  if (f.str("platform") === "all") {
    if (!oci) throw new KbError("USAGE", 'Cannot pull "--platform all" into the store: only an OCI layout keeps every platform', { hint: "add --oci DIR" });
    const read = await registrySource(client).read(ref.toString());
    const sink = fileFormats.oci.sink(oci);
    if (isImageIndex(read)) {
      // Attestation manifests come along, with the annotations that tie each to its image; an OCI layout holds an OCI index.
      const entries = await Promise.all((await imageEntries(read)).map(async (d) => ({ image: await read.image(d.digest), annotations: d.platform?.os === "unknown" ? d.annotations : undefined })));
      digest = (await sink.writeIndex!(assembleIndex(entries, { mediaType: MediaType.OciIndex }), { tags })).digest;
    } else digest = (await sink.write(read, { tags })).digest;
  } else {
    const platform = platformFromFlags(f) ?? hostPlatform();
    const img = await imageForPlatform(await registrySource(client).read(ref.toString()), platform, `"${ref}"`);
    if (oci) digest = (await fileFormats.oci.sink(oci).write(img, { tags })).digest;
    else {
      const store = await storeFromFlags(f, io);
      const lease = await takeLease(store.dirs.root, store.dirs.locks); // a concurrent GC keeps what this pull wrote
      store.useLease(lease);
      try {
        digest = await putImage(store, img);
        await store.cache.put(pullRecordKey(ref, platform), { kind: "pulled-image", data: { ref: ref.toString(), platform: formatPlatform(platform), digest }, refs: [digest] });
      } finally {
        await lease.release();
      }
    }
  }
  await writeDigestFile(f, io, digest);
  io.out(`${digest}\n`);
  return 0;
}

/** What a location names, read through its source: an Image, or an ImageIndex (platform not yet picked). */
interface Target {
  name: string;
  read: Image | ImageIndex;
}

/** Reads a location for inspect and push: the registry's source, the OCI layout's, or the docker archive. */
async function openTarget(loc: ImageLocation, client: () => RegistryClient): Promise<Target> {
  const name = locationName(loc);
  if (loc.kind === "registry") return { name, read: await registrySource(client()).read(loc.ref.toString()) };
  return { name, read: await fileFormats[loc.format].source(loc.path).read(loc.tag) };
}

/** The single-platform image of a target: `platform` (else the host's, else the first image) from an index. */
const imageOf = (t: Target, platform: Platform | undefined): Promise<Image> => imageForPlatform(t.read, platform, `"${t.name}"`);

const hostOf = (loc: ImageLocation): string[] => (loc.kind === "registry" ? [loc.ref.registry] : []);

/** `kb push SRC REF`: streams blobs to the registry; an OCI index is pushed whole unless --platform picks one. */
export async function runPush(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, PUSH, io);
  if (!p) return 0;
  const { f } = p;
  const src = parseImageLocation(p.args[0]!, io.cwd);
  const dest = parseReference(p.args[1]!.replace(/^docker:\/\//, ""));
  const progress = progressFromFlags(f, io);
  const client = registryClientFromFlags(f, io, [dest.registry, ...hostOf(src)], progress.onProgress);
  const target = await openTarget(src, () => client);
  const platform = platformFromFlags(f);
  const sink = registrySink(client, [dest]);
  const result = isImageIndex(target.read) && !platform ? await sink.writeIndex!(target.read, { tags: [] }) : await sink.write(await imageOf(target, platform), { tags: [] });
  await writeDigestFile(f, io, result.digest);
  io.out(`${result.digest}\n`);
  return 0;
}

/** `kb inspect`: a summary (text or JSON), or the exact manifest / config bytes. */
export async function runInspect(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, INSPECT, io);
  if (!p) return 0;
  const { f } = p;
  const format = formatFromFlags(f);
  if (f.bool("raw") && f.bool("config")) throw new KbError("USAGE", "Cannot use --raw with --config", { hint: "pick one" });
  const loc = parseImageLocation(p.args[0]!, io.cwd);
  const target = await openTarget(loc, () => registryClientFromFlags(f, io, hostOf(loc)));
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  if (f.bool("raw")) {
    io.out(decode(await target.read.rawManifest()));
    return 0;
  }
  if (f.bool("attestations")) {
    const { listAttestations, renderAttestations } = await import("./attestations.ts");
    const index = isImageIndex(target.read) ? target.read : undefined;
    const list = index ? await listAttestations(await index.manifest(), (d) => index.image(d.digest), format === "json") : [];
    io.out(format === "json" ? `${JSON.stringify(list, null, 2)}\n` : renderAttestations(target.name, list));
    return 0;
  }
  const image = await imageOf(target, platformFromFlags(f));
  if (f.bool("config")) {
    io.out(decode(await image.rawConfig()));
    return 0;
  }
  const summary = await summarize(target, image);
  // Labels, Env, names come from the registry: nothing in them may drive the terminal.
  io.out(format === "json" ? `${printableJson(summary, 2)}\n` : printable(renderSummary(summary)));
  return 0;
}

/** What `kb inspect --format json` prints. */
export interface InspectSummary {
  name: string;
  digest: Digest;
  mediaType: string;
  platforms?: Array<{ platform: string; digest: Digest; mediaType: string; size: number }>;
  image: {
    digest: Digest;
    mediaType: string;
    platform: string;
    created?: string;
    entrypoint?: string[] | null;
    cmd?: string[] | null;
    env: string[];
    workingDir?: string;
    user?: string;
    labels: Record<string, string>;
    exposedPorts: string[];
    volumes: string[];
    healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
    shell?: string[];
    onBuild?: string[];
    stopSignal?: string;
    size: number;
    layers: Array<{ digest: Digest; size: number; mediaType: string }>;
  };
}

async function summarize(t: Target, img: Image): Promise<InspectSummary> {
  const [m, c] = [await img.manifest(), await img.config()];
  const cc = c.config ?? {};
  const layers = m.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
  const index = isImageIndex(t.read) ? await t.read.manifests() : undefined;
  return {
    name: t.name, digest: await t.read.digest(), mediaType: await t.read.mediaType(),
    platforms: index?.map((d) => ({ platform: d.platform ? formatPlatform(d.platform) : "unknown", digest: d.digest, mediaType: d.mediaType, size: d.size })),
    image: {
      digest: await img.digest(), mediaType: await img.mediaType(), platform: formatPlatform({ os: c.os, architecture: c.architecture, variant: c.variant }),
      created: c.created, entrypoint: cc.Entrypoint, cmd: cc.Cmd, env: cc.Env ?? [], workingDir: cc.WorkingDir || undefined, user: cc.User || undefined,
      labels: cc.Labels ?? {}, exposedPorts: Object.keys(cc.ExposedPorts ?? {}), volumes: Object.keys(cc.Volumes ?? {}),
      healthcheck: cc.Healthcheck, shell: cc.Shell, onBuild: cc.OnBuild ?? undefined, stopSignal: cc.StopSignal || undefined,
      size: layers.reduce((n, l) => n + l.size, 0), layers,
    },
  };
}

/** `CMD ["curl","-f","x"] interval=30s timeout=3s retries=3`, as `docker inspect` would let you read it. */
function renderHealthcheck(h: NonNullable<InspectSummary["image"]["healthcheck"]>): string {
  const t = h.Test ?? [];
  const test = t[0] === "NONE" ? "NONE" : t[0] === "CMD-SHELL" ? `CMD-SHELL ${t.slice(1).join(" ")}` : t[0] === "CMD" ? `CMD ${JSON.stringify(t.slice(1))}` : JSON.stringify(t);
  const d = (ns: number | undefined) => (ns ? `${ns / 1e9}s` : undefined);
  const opts = [["interval", d(h.Interval)], ["timeout", d(h.Timeout)], ["start-period", d(h.StartPeriod)], ["start-interval", d(h.StartInterval)], ["retries", h.Retries ? String(h.Retries) : undefined]];
  return [test, ...opts.filter(([, v]) => v).map(([k, v]) => `${k}=${v}`)].join(" ");
}

function renderSummary(s: InspectSummary): string {
  const out: string[] = [];
  const row = (k: string, v: string | undefined) => v !== undefined && v !== "" && out.push(`${(k ? `${k}:` : "").padEnd(14)}${v}`);
  const list = (k: string, vs: string[]) => vs.forEach((v, i) => row(i === 0 ? k : "", v));
  row("Name", s.name);
  row("Digest", s.digest);
  row("Media type", s.mediaType);
  if (s.platforms) {
    list("Platforms", s.platforms.map((pl) => `${pl.platform.padEnd(16)} ${pl.digest} ${formatBytes(pl.size)}`));
    row("Showing", `${s.image.platform} ${s.image.digest}`);
  }
  const i = s.image;
  row("Platform", i.platform);
  row("Created", i.created);
  row("Entrypoint", i.entrypoint ? JSON.stringify(i.entrypoint) : undefined);
  row("Cmd", i.cmd ? JSON.stringify(i.cmd) : undefined);
  row("WorkingDir", i.workingDir);
  row("User", i.user);
  list("Env", i.env);
  list("Labels", Object.entries(i.labels).map(([k, v]) => `${k}=${v}`));
  row("Ports", i.exposedPorts.join(" ") || undefined);
  row("Volumes", i.volumes.join(" ") || undefined);
  row("Healthcheck", i.healthcheck ? renderHealthcheck(i.healthcheck) : undefined);
  row("Shell", i.shell ? JSON.stringify(i.shell) : undefined);
  list("OnBuild", i.onBuild ?? []);
  row("StopSignal", i.stopSignal);
  out.push(`Layers (${i.layers.length}, ${formatBytes(i.size)}):`);
  for (const l of i.layers) out.push(`  ${l.digest}  ${formatBytes(l.size).padStart(9)}  ${l.mediaType}`);
  return `${out.join("\n")}\n`;
}
