// `kb cache du|ls|prune|verify`: look after the store (blobs, build-cache records, extracted trees).

import { KbError } from "../../errors.ts";
import { du, prune, storeCap, verify, type PruneOptions } from "../../store/index.ts";
import type { CliIo } from "../io.ts";
import { userNamespaceRemover } from "../../engine/core/gc-after-build.ts";
import { parseDuration } from "./build-options.ts";
import { formatBytes, formatFromFlags, FORMAT_FLAG, parseCommandFlags, storeFromFlags, type CommandHelp } from "./_common.ts";

const CACHE: CommandHelp = {
  name: "cache",
  args: [1, 1],
  usage: "kb cache du|ls|prune|verify [--cache-dir DIR]   prune: [--all] [--keep-storage SIZE] [--older-than DURATION]",
  summary: "Store maintenance: disk usage, cache records, freeing space, re-hashing blobs",
  specs: [
    { name: "cache-dir", type: "string", valueHint: "DIR", description: "The store (default $KB_CACHE_DIR, else ~/.cache/kb)" },
    { name: "all", type: "boolean", description: "prune: remove every record, tree and blob" },
    { name: "keep-storage", type: "string", valueHint: "SIZE", description: "prune: evict least recently used entries until the store fits SIZE (e.g. 10GB)" },
    { name: "older-than", type: "string", valueHint: "DURATION", description: "prune: remove entries unused for DURATION (e.g. 72h, 7d)" },
    FORMAT_FLAG,
  ],
};

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Parses a size as docker does for --keep-storage ("10GB", "512m", "1.5GiB", "1048576"): units are binary.
 * @example parseSize("10GB", "--keep-storage") // 10737418240
 */
export function parseSize(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(s.trim());
  if (!m || (m[2] === "" && m[3] && m[3].toLowerCase() !== "b")) {
    throw new KbError("USAGE", `Cannot use ${what} "${s}": not a size`, { hint: 'write it like "10GB", "512MB" or a byte count' });
  }
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** A Go duration, or whole days ("7d"), in milliseconds. */
export function parseAge(s: string, what: string): number {
  const days = /^(\d+)d$/.exec(s);
  return days ? Number(days[1]) * 86_400_000 : parseDuration(s, what);
}

const SUBCOMMANDS = ["du", "ls", "prune", "verify"];

/** `kb cache <sub>`: exit 1 when verify found corrupt blobs. */
export async function runCache(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, CACHE, io);
  if (!p) return 0;
  const { f } = p;
  const sub = p.args[0]!;
  if (!SUBCOMMANDS.includes(sub)) throw new KbError("USAGE", `Cannot run "kb cache ${sub}": unknown subcommand`, { hint: `one of ${SUBCOMMANDS.join(", ")}` });
  const format = formatFromFlags(f);
  const pruneOnly = ["all", "keep-storage", "older-than"].filter((n) => f.has(n));
  if (sub !== "prune" && pruneOnly.length) throw new KbError("USAGE", `Cannot use --${pruneOnly[0]} with "kb cache ${sub}"`, { hint: "it belongs to kb cache prune" });
  // Rootless trees holding files of sub-ids are removed through the sandbox helper (probed on first need).
  const opts: PruneOptions = { all: f.bool("all"), removeTree: userNamespaceRemover() };
  if (f.str("keep-storage") !== undefined) opts.keepStorage = parseSize(f.str("keep-storage")!, "--keep-storage");
  if (f.str("older-than") !== undefined) opts.olderThan = parseAge(f.str("older-than")!, "--older-than");

  const store = await storeFromFlags(f, io);
  const json = (v: unknown) => io.out(`${JSON.stringify(v, null, 2)}\n`);
  if (sub === "du") {
    const u = await du(store);
    const envCap = io.env.KB_CACHE_MAX_SIZE;
    const cap = await storeCap(store, envCap ? parseSize(envCap, "KB_CACHE_MAX_SIZE") : undefined);
    if (format === "json") json({ dir: store.dirs.root, ...u, cap: cap.bytes, capSource: cap.source });
    else {
      const rows = (["blobs", "trees", "cache", "tmp"] as const).map((k) => `${k.padEnd(7)}${String(u[k].count).padStart(8)}  ${formatBytes(u[k].bytes).padStart(9)}`);
      io.out(`${store.dirs.root}\n${"".padEnd(7)}${"entries".padStart(8)}  ${"size".padStart(9)}\n${rows.join("\n")}\n${"total".padEnd(17)}${formatBytes(u.total).padStart(9)}\n`);
      const why = cap.source === "default" ? "default: 10% of the disk, as BuildKit's GC; change with kb build --cache-max-size or KB_CACHE_MAX_SIZE" : "KB_CACHE_MAX_SIZE";
      io.out(`${"cap".padEnd(17)}${(cap.bytes ? formatBytes(cap.bytes) : "none").padStart(9)}  (${cap.bytes ? why : "KB_CACHE_MAX_SIZE=0: no GC after builds"})\n`);
    }
    return 0;
  }
  if (sub === "ls") {
    const records = (await store.cache.list()).sort((a, b) => b.record.lastUsed - a.record.lastUsed);
    if (format === "json") json(records.map(({ key, record, bytes }) => ({ key, kind: record.kind, refs: record.refs, createdAt: new Date(record.createdAt).toISOString(), lastUsed: new Date(record.lastUsed).toISOString(), bytes, data: record.data })));
    else {
      // Columns as wide as their widest cell (a kind like "pulled-image" or "remote-layer" is longer than 12).
      const rows = records.map(({ key, record }) => [key.slice(0, 12), record.kind, new Date(record.lastUsed).toISOString(), describe(record.data, record.refs)]);
      const widths = [0, 1, 2].map((c) => Math.max(["KEY", "KIND", "LAST USED"][c]!.length, ...rows.map((r) => r[c]!.length)) + 2);
      const line = (r: string[]) => `${r.slice(0, 3).map((v, c) => v.padEnd(widths[c]!)).join("")}${r[3]}\n`;
      io.out(line(["KEY", "KIND", "LAST USED", "WHAT"]));
      for (const r of rows) io.out(line(r));
      io.out(`${records.length} record${records.length === 1 ? "" : "s"}\n`);
    }
    return 0;
  }
  if (sub === "prune") {
    const r = await prune(store, opts);
    if (format === "json") json(r);
    else {
      io.out(`removed ${r.records} records, ${r.trees} trees, ${r.blobs} blobs, ${r.tmp} temp files; freed ${formatBytes(r.freedBytes)}\n`);
      const k = r.skipped;
      if (k.records + k.trees + k.blobs > 0)
        io.out(`skipped ${k.records} records, ${k.trees} trees, ${k.blobs} blobs (${formatBytes(k.bytes)}): in use by ${r.leases} running build${r.leases === 1 ? "" : "s"}\n`);
      if (r.staleLeases > 0) io.out(`dropped ${r.staleLeases} lease${r.staleLeases === 1 ? "" : "s"} of builds that no longer run\n`);
    }
    return 0;
  }
  const r = await verify(store);
  if (format === "json") json(r);
  else {
    io.out(`checked ${r.checked} blobs: ${r.bad.length ? `${r.bad.length} corrupt (removed)` : "all intact"}\n`);
    for (const d of r.bad) io.out(`  corrupt: ${d}\n`);
  }
  return r.bad.length ? 1 : 0;
}

/** One line about a record: a pulled image's reference, else the first blob it keeps. */
function describe(data: unknown, refs: string[]): string {
  const d = data as { ref?: unknown; platform?: unknown } | null;
  if (d && typeof d === "object" && typeof d.ref === "string") return `${d.ref}${typeof d.platform === "string" ? ` (${d.platform})` : ""}`;
  return refs[0] ? `${refs[0].slice(0, 19)}…${refs.length > 1 ? ` +${refs.length - 1}` : ""}` : "";
}
