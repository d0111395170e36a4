// extractTar: safe extraction of a layer tar into a directory (never outside it), with whiteout handling.

import { memoryCheckpoint } from "../runtime.ts";
import { chmodSync, closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, readdirSync, realpathSync, rmSync, symlinkSync, writeSync } from "node:fs";
import { constants } from "node:fs";
import path from "node:path";
import { KbError } from "../errors.ts";
import { mkfifo, mknod, setXattr } from "./_fs-special.ts";
import { archiveComponents, lstatOrUndefined, resolveParent } from "./_resolve.ts";
import type { TarEntry } from "./tar-entry.ts";
import { readTar } from "./untar.ts";
import { parseWhiteout } from "./whiteout.ts";

export interface ExtractOptions {
  /**
   * "apply": `.wh.NAME` deletes NAME, `.wh..wh..opq` clears the directory's earlier contents (not what
   * this layer made); "keep-as-overlay": write overlayfs whiteouts (char 0/0, or when mknod is not
   * permitted an empty file with `user.overlay.whiteout` in a directory marked `user.overlay.opaque=x`)
   * and opaque xattrs (`trusted.overlay.opaque=y` as root, `user.overlay.opaque=y` otherwise);
   * "keep": write whiteout files as plain files.
   */
  whiteouts: "apply" | "keep-as-overlay" | "keep";
  /** lchown each entry to its (mapped) uid/gid; when false owners are ignored. */
  chown: boolean;
  /** Maps archive ids to host ids before lchown. */
  idMap?: (uid: number, gid: number) => [number, number];
  /** Most file content bytes written before failing (decompression bombs). @default Infinity */
  maxBytes?: number;
  /** Receives warnings (devices or xattrs that could not be made). */
  onWarning?: (msg: string) => void;
  /** "create" makes device nodes (skipped with a warning when mknod is not permitted); "skip" never does. */
  devices: "create" | "skip";
  /**
   * Paths (relative, "/"-separated, no leading "/") never to write, delete or clear, nor anything under them
   * (container mode: kb's own folder, the store, /proc, mount points). Entries there are skipped.
   */
  exclude?: (relPath: string) => boolean;
  /**
   * Called at the end for each directory the archive did not list but that had to be made for its entries
   * (relative path). Overlay lowerdirs need those to carry the lower layers' metadata, not 0755 root.
   */
  onImplicitDir?: (relPath: string) => void;
  /** Sees every entry as the archive lists it, before it is written (to index a layer in the same pass). */
  onEntry?: (entry: TarEntry) => void;
}

export interface ExtractResult {
  entries: number;
  bytes: number;
}

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

class Extractor {
  /** Host paths checked to be real directories (not symlinks) during this run; cleared on any removal. */
  known = new Set<string>();
  /** Host paths of every directory that holds an entry (for onImplicitDir). */
  parents = new Set<string>();
  readonly root: string;
  readonly ns: "trusted" | "user";
  readonly dirs = new Map<string, TarEntry>();
  readonly created = new Set<string>();
  bytes = 0;

  constructor(root: string, readonly opts: ExtractOptions) {
    this.root = realpathSync(root);
    this.ns = process.getuid?.() === 0 ? "trusted" : "user";
  }

  warn(msg: string): void {
    this.opts.onWarning?.(msg);
  }

  /** True when the entry, the path a whiteout names, or a directory an opaque whiteout clears is excluded. */
  isExcluded(comps: string[]): boolean {
    const ex = this.opts.exclude!;
    const dir = comps.slice(0, -1);
    const wo = parseWhiteout(comps[comps.length - 1]!);
    const target = wo?.kind === "delete" ? [...dir, wo.target] : wo ? dir : comps;
    if (wo?.kind === "opaque" && target.length === 0) return true; // never clear the root in place
    for (let i = 1; i <= target.length; i++) if (ex(target.slice(0, i).join("/"))) return true;
    return false;
  }

  fail(what: string, state: string, cause?: unknown): KbError {
    return new KbError("LAYER_EXTRACT", `Cannot extract ${what}: ${state}`, { cause });
  }

  async entry(entry: TarEntry, body: ReadableStream<Uint8Array>): Promise<void> {
    const what = `tar entry "${entry.path}"`;
    const comps = archiveComponents(entry.path, what);
    if (comps.length === 0) {
      if (entry.type !== "dir") throw new KbError("LAYER_INVALID", `Cannot extract ${what}: the root can only be a directory`);
      this.dirs.set(this.root, entry);
      return;
    }
    const base = comps[comps.length - 1];
    if (this.opts.exclude && this.isExcluded(comps)) {
      await body.cancel();
      return;
    }
    const wo = this.opts.whiteouts === "keep" ? undefined : parseWhiteout(base);
    if (wo) return this.whiteout(wo, comps, what);
    const parent = resolveParent(this.root, comps, true, what, this.known)!;
    if (this.opts.onImplicitDir) for (let d = parent; d.length > this.root.length && !this.parents.has(d); d = path.dirname(d)) this.parents.add(d);
    const host = path.join(parent, base);
    switch (entry.type) {
      case "dir":
        this.makeDir(host);
        this.dirs.set(host, entry);
        this.created.add(host);
        return;
      case "file":
        await this.writeFile(host, entry, body, what);
        this.created.add(host);
        return; // its metadata was set through the open file
      case "symlink":
        this.fresh(host, () => symlinkSync(entry.linkname!, host));
        break;
      case "hardlink": {
        const tc = archiveComponents(entry.linkname!, what);
        const tp = tc.length ? resolveParent(this.root, tc, false, what) : undefined;
        const target = tp && path.join(tp, tc[tc.length - 1]);
        if (target === host) this.clear(host); // a link to itself names nothing once the old entry is gone
        const tst = target ? lstatOrUndefined(target) : undefined;
        if (!target || !tst) throw this.fail(what, `the hardlink target "${entry.linkname}" does not exist`);
        if (tst.isDirectory()) throw this.fail(what, `the hardlink target "${entry.linkname}" is a directory`);
        this.fresh(host, () => linkSync(target, host));
        this.created.add(host);
        return; // a hardlink shares its target's metadata
      }
      case "char":
      case "block": {
        this.clear(host);
        const err = this.opts.devices === "skip" ? new Error("devices are skipped")
          : mknod(host, entry.type, entry.devmajor ?? 0, entry.devminor ?? 0);
        if (err) {
          this.warn(`Skipped device "${entry.path}": ${err.message}`);
          return;
        }
        break;
      }
      case "fifo": {
        this.clear(host);
        const err = mkfifo(host);
        if (err) throw this.fail(what, err.message, err);
        break;
      }
    }
    this.created.add(host);
    this.meta(host, entry);
  }

  /** Removes whatever is at `host` (an earlier entry of the same path, or a lower layer's). */
  clear(host: string): void {
    if (!lstatOrUndefined(host)) return;
    rmSync(host, { recursive: true, force: true });
    this.known.clear();
  }

  /**
   * Runs `make`, which creates `host` exclusively (O_EXCL, mkdir, symlink, link: none follows a symlink at
   * `host`); when something is already there it is removed and `make` runs again. Most entries are new, so
   * this costs one system call where a look first would cost two.
   */
  fresh<T>(host: string, make: () => T): T {
    try {
      return make();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    rmSync(host, { recursive: true, force: true });
    this.known.clear();
    return make();
  }

  /** Makes a directory entry's directory, keeping one already there (a lower layer's, or an implicit parent). */
  makeDir(host: string): void {
    try {
      mkdirSync(host, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!lstatOrUndefined(host)?.isDirectory()) {
        rmSync(host, { recursive: true, force: true });
        this.known.clear();
        mkdirSync(host, { mode: 0o700 });
      }
    }
    this.known.add(host); // a real directory, made or checked just now: its children need not look again
  }

  async writeFile(host: string, entry: TarEntry, body: ReadableStream<Uint8Array>, what: string): Promise<void> {
    // Synchronous open/write/close: per file they cost a fraction of the promise round trips (layers hold
    // many small files); each write is one chunk of the stream, so the event loop is never held long.
    // Owner, mode and times are set through the descriptor: no path lookups for the most common entry.
    const fd = this.fresh(host, () => openSync(host, FILE_FLAGS, 0o600));
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.bytes += value.length;
        if (this.bytes > (this.opts.maxBytes ?? Infinity)) {
          await reader.cancel();
          throw new KbError("LAYER_INVALID", `Cannot extract ${what}: the layer holds more than "${this.opts.maxBytes}" bytes`, {
            hint: "The layer may be a decompression bomb; raise the limit only if you trust it",
          });
        }
        let o = 0;
        while (o < value.length) o += writeSync(fd, value, o, value.length - o);
        if (Math.floor(this.bytes / 4194304) !== Math.floor((this.bytes - value.length) / 4194304)) memoryCheckpoint(); // every 4 MiB
      }
      this.meta(host, entry, fd);
    } finally {
      reader.releaseLock();
      closeSync(fd);
    }
  }

  whiteout(wo: NonNullable<ReturnType<typeof parseWhiteout>>, comps: string[], what: string): void {
    if (wo.kind === "meta") return;
    if (wo.kind === "invalid") throw new KbError("LAYER_INVALID", `Cannot extract ${what}: the whiteout names no file`);
    const overlay = this.opts.whiteouts === "keep-as-overlay";
    const dir = resolveParent(this.root, comps, overlay, what);
    if (!dir) return; // nothing below to delete
    if (wo.kind === "opaque") {
      if (overlay) return this.xattr(dir, `${this.ns}.overlay.opaque`, "y", what);
      for (const name of readdirSync(dir)) {
        const child = path.join(dir, name);
        if (!this.created.has(child)) (rmSync(child, { recursive: true, force: true }), this.known.clear());
      }
      return;
    }
    const target = path.join(dir, wo.target);
    rmSync(target, { recursive: true, force: true });
    this.known.clear();
    if (!overlay) return;
    if (!mknod(target, "char", 0, 0)) return;
    // Unprivileged: the xattr whiteout form overlayfs accepts since Linux 6.7.
    rmSync(target, { force: true });
    this.known.clear();
    closeSync(openSync(target, FILE_FLAGS, 0o644));
    this.xattr(target, `${this.ns}.overlay.whiteout`, "y", what);
    this.xattr(dir, `${this.ns}.overlay.opaque`, "x", what);
  }

  xattr(host: string, name: string, value: string, what: string): void {
    const err = setXattr(host, name, value);
    if (err) throw this.fail(what, `cannot set xattr "${name}": ${err.message}`, err);
  }

  /** Owner, xattrs, mode and times of an entry (through `fd` when the file is open). */
  meta(host: string, e: TarEntry, fd?: number): void {
    const what = `tar entry "${e.path}"`;
    if (this.opts.chown) {
      const [uid, gid] = this.opts.idMap ? this.opts.idMap(e.uid, e.gid) : [e.uid, e.gid];
      try {
        if (fd === undefined) lchownSync(host, uid, gid);
        else fchownSync(fd, uid, gid);
      } catch (err) {
        throw this.fail(what, `cannot change its owner to "${uid}:${gid}": ${(err as Error).message}`, err);
      }
    }
    for (const [k, v] of Object.entries(e.xattrs ?? {})) {
      const err = setXattr(host, k, v);
      if (err) this.warn(`Skipped xattr "${k}" on "${e.path}": ${err.message}`);
    }
    if (fd !== undefined) {
      fchmodSync(fd, e.mode & 0o7777);
      futimesSync(fd, e.mtime, e.mtime);
      return;
    }
    if (e.type !== "symlink") chmodSync(host, e.mode & 0o7777);
    lutimesSync(host, e.mtime, e.mtime);
  }

  finish(): void {
    const dirs = [...this.dirs].sort((a, b) => b[0].length - a[0].length);
    for (const [host, e] of dirs) this.meta(host, e);
    if (this.opts.onImplicitDir) {
      for (const d of [...this.parents].sort()) if (!this.dirs.has(d)) this.opts.onImplicitDir(path.relative(this.root, d));
    }
  }
}

/**
 * Extracts a tar stream into `root` (which must exist). Nothing is written outside `root`, whatever the
 * tar says: `..` that climbs out is an error, absolute paths are taken relative to `root`, symlinks in
 * parent components resolve inside `root` as in a chroot, files are opened with O_NOFOLLOW|O_EXCL.
 * Duplicate entries: the last one wins. Modes and mtimes are set after contents, directories last.
 * On error (truncated or hostile tar) the partial tree is left as is: deleting it is the caller's job.
 * @example await extractTar(decompressStream(blob), "/tmp/rootfs", { whiteouts: "apply", chown: false, devices: "skip" });
 */
export async function extractTar(stream: ReadableStream<Uint8Array>, root: string, opts: ExtractOptions): Promise<ExtractResult> {
  const x = new Extractor(root, opts);
  let entries = 0;
  for await (const { entry, body } of readTar(stream)) {
    entries++;
    opts.onEntry?.(entry);
    try {
      await x.entry(entry, body);
    } catch (e) {
      if (e instanceof KbError) throw e;
      throw x.fail(`tar entry "${entry.path}"`, (e as Error).message, e);
    }
  }
  x.finish();
  return { entries, bytes: x.bytes };
}
