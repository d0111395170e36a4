// readXattrs: every extended attribute under a dir, read by the kb-sandbox helper (node has no xattr API).

import { spawn } from "node:child_process";
import { KbError } from "../errors.ts";
import { resolveHelperPath } from "../helper/helper-path.ts";
import { splitNulFields } from "../helper/tree-access.ts";

/** Relative path ("." for the root) → attribute name → value as a byte string (one char per byte). */
export type XattrMap = Map<string, Record<string, string>>;

/** What one `kb-sandbox xattrs` walk found: the attributes, and the entries the caller cannot read. */
export interface XattrScan {
  xattrs: XattrMap;
  /** Dirs the caller cannot list and files it cannot read (relative paths), in walk order. */
  unreadable: string[];
}

/**
 * Parses the helper's output: NUL-terminated triples (path, name, hex value); an empty name marks
 * an entry the caller cannot read.
 */
export function parseXattrScan(bytes: Uint8Array): XattrScan {
  const xattrs: XattrMap = new Map();
  const unreadable: string[] = [];
  const fields = splitNulFields(bytes);
  if (!fields || fields.length % 3 !== 0) {
    throw new KbError("SANDBOX", "Cannot read extended attributes: the helper's output is truncated");
  }
  for (let i = 0; i < fields.length; i += 3) {
    const [p, name, hex] = [fields[i]!, fields[i + 1]!, fields[i + 2]!];
    if (name === "") {
      if (hex !== "") throw new KbError("SANDBOX", `Cannot read extended attributes: the mark for "${p}" carries a value`);
      unreadable.push(p);
      continue;
    }
    if (!/^([0-9a-f]{2})*$/.test(hex)) throw new KbError("SANDBOX", `Cannot read extended attribute "${name}" of "${p}": value "${hex.slice(0, 20)}" is not hex`);
    let v = "";
    for (let j = 0; j < hex.length; j += 2) v += String.fromCharCode(parseInt(hex.slice(j, j + 2), 16));
    const rec = xattrs.get(p) ?? {};
    rec[name] = v;
    xattrs.set(p, rec);
  }
  return { xattrs, unreadable };
}

/** Parses the helper's output into the attribute map only (see {@link parseXattrScan}). */
export function parseXattrOutput(bytes: Uint8Array): XattrMap {
  return parseXattrScan(bytes).xattrs;
}

/**
 * Reads all xattrs under `dir` in one helper run (`kb-sandbox xattrs DIR`): one process, one walk.
 * @example const x = await readXattrs(upperDir); x.get("etc")?.["user.overlay.opaque"] === "y"
 */
export async function readXattrs(dir: string, helperPath?: string): Promise<XattrMap> {
  return (await scanXattrs(dir, helperPath)).xattrs;
}

/**
 * One helper walk of `dir`: every xattr, plus the entries the caller cannot read (no extra syscalls).
 * @example const { xattrs, unreadable } = await scanXattrs(upperDir);
 */
export async function scanXattrs(dir: string, helperPath?: string): Promise<XattrScan> {
  const helper = helperPath ?? (await resolveHelperPath());
  const chunks: Uint8Array[] = [];
  let err = "";
  const code = await new Promise<number>((resolve, reject) => {
    const c = spawn(helper, ["xattrs", dir], { stdio: ["ignore", "pipe", "pipe"] });
    c.stdout.on("data", (d: Buffer) => chunks.push(new Uint8Array(d)));
    c.stderr.on("data", (d: Buffer) => { err += d.toString(); });
    c.on("error", reject);
    c.on("close", (n) => resolve(n ?? 125));
  });
  if (code !== 0) throw new KbError("SANDBOX", `Cannot read extended attributes under "${dir}": ${err.trim() || `exit ${code}`}`);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { all.set(c, o); o += c.length; }
  return parseXattrScan(all);
}
