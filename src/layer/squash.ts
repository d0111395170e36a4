// Several layers as one (Kaniko's --single-snapshot): the tar that takes the state below the first layer to the state
// after the last. Two streamed passes over the layers' tars: headers first (who writes each path last, what was
// deleted, which directories must hide what lies below), then the bodies of those last writers, in layer order.

import { KbError } from "../errors.ts";
import type { TarEntry } from "./tar-entry.ts";
import type { TarInput } from "./tar.ts";
import { readTar } from "./untar.ts";
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from "./whiteout.ts";

/** Opens one layer's uncompressed tar (called twice per layer). */
export type OpenLayer = () => Promise<ReadableStream<Uint8Array>>;

const clean = (p: string): string => p.replace(/^(\.?\/)+/, "").replace(/\/+$/, "");
const parentOf = (p: string): string => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const isUnder = (p: string, dir: string): boolean => dir === "" || p.startsWith(`${dir}/`);

interface Writer {
  layer: number;
  seq: number;
  entry: TarEntry;
  /** For a hard link: who wrote its target when the link was made (the bytes it shares). */
  linked?: Writer;
}

/** What the layers do to the state below them, from their headers. */
class SquashPlan {
  /** The last writer of every path that exists at the end and was written by these layers. */
  readonly final = new Map<string, Writer>();
  /** Paths deleted by these layers and not made again: a whiteout each. */
  readonly gone = new Set<string>();
  /** Directories whose earlier contents (below the first layer) must stay hidden: an opaque marker each. */
  readonly opaque = new Set<string>();

  /** Every directory below which a path above was ever recorded: the only ones #dropUnder needs to look through. */
  readonly #parents = new Set<string>();

  #note(p: string): void {
    for (let a = parentOf(p); a !== "" && !this.#parents.has(a); a = parentOf(a)) this.#parents.add(a);
  }

  #dropUnder(dir: string): void {
    if (dir !== "" && !this.#parents.has(dir)) return; // nothing recorded below it (most entries): no scan
    for (const p of [...this.final.keys()]) if (isUnder(p, dir) && p !== dir) this.final.delete(p);
    for (const p of [...this.gone]) if (isUnder(p, dir) && p !== dir) this.gone.delete(p);
    for (const p of [...this.opaque]) if (isUnder(p, dir) && p !== dir) this.opaque.delete(p);
  }

  /** A directory that comes back after it was deleted or replaced hides what was below it before. */
  #remake(dir: string): void {
    const was = this.final.get(dir);
    if (this.gone.has(dir) || (was && was.entry.type !== "dir")) {
      this.gone.delete(dir);
      this.opaque.add(dir);
      if (was && was.entry.type !== "dir") this.final.delete(dir);
    }
  }

  add(layer: number, seq: number, entry: TarEntry): void {
    const p = clean(entry.path);
    if (p === "") return;
    const dir = parentOf(p);
    const base = p.slice(dir.length ? dir.length + 1 : 0);
    for (let a = dir; a !== ""; a = parentOf(a)) this.#remake(a); // the applier makes missing parents
    if (base === OPAQUE_WHITEOUT) {
      this.#dropUnder(dir);
      this.opaque.add(dir);
      this.#note(`${dir}/${OPAQUE_WHITEOUT}`);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length);
      this.#dropUnder(target);
      this.final.delete(target);
      this.opaque.delete(target);
      this.gone.add(target);
      this.#note(target);
      return;
    }
    if (entry.type === "dir") this.#remake(p);
    else {
      this.#dropUnder(p); // a file over a directory removes what was in it
      this.opaque.delete(p);
      this.gone.delete(p);
    }
    const linked = entry.type === "hardlink" ? this.final.get(clean(entry.linkname ?? "")) : undefined;
    this.final.set(p, { layer, seq, entry: { ...entry, path: p }, ...(linked ? { linked } : {}) });
    this.#note(p);
  }

  /**
   * A hard link whose target a later step replaced or deleted cannot stay a link in one layer: it becomes a file
   * with the bytes it shared then. Links whose target is unchanged (or lies below the first layer) stay links.
   */
  orphanedLinks(): Writer[] {
    return [...this.final.values()].filter((w) => w.linked && this.final.get(clean(w.entry.linkname ?? "")) !== w.linked);
  }
}

function whiteoutEntry(path: string, mtime: number): TarEntry {
  return { path, type: "file", mode: 0o644, uid: 0, gid: 0, size: 0, mtime };
}

/**
 * The entries of one layer equal to `layers` applied in order (bottom first) over any state: whiteouts for what they
 * delete, an opaque marker for each directory they clear or make again after deleting it, then every path's last
 * writer in layer order, its body streamed from that layer. A hard link whose target a later layer replaced or
 * deleted becomes a file with the bytes it shared.
 * @example for await (const input of squashLayers([() => a.uncompressed(), () => b.uncompressed()])) …
 */
export async function* squashLayers(layers: OpenLayer[], mtime = 0): AsyncGenerator<TarInput> {
  const plan = new SquashPlan();
  for (const [i, open] of layers.entries()) {
    let seq = 0;
    for await (const { entry, body } of readTar(await open())) {
      await body.cancel();
      plan.add(i, seq++, entry);
    }
  }
  const orphans = new Set(plan.orphanedLinks());
  const carried = new Map<Writer, string>();
  for (const d of [...plan.opaque].sort()) yield { entry: whiteoutEntry(d ? `${d}/${OPAQUE_WHITEOUT}` : OPAQUE_WHITEOUT, mtime) };
  for (const g of [...plan.gone].sort()) {
    const dir = parentOf(g);
    const name = `${WHITEOUT_PREFIX}${g.slice(dir.length ? dir.length + 1 : 0)}`;
    yield { entry: whiteoutEntry(dir ? `${dir}/${name}` : name, mtime) };
  }
  for (const [i, open] of layers.entries()) {
    let seq = 0;
    for await (const { entry, body } of readTar(await open())) {
      const w = plan.final.get(clean(entry.path));
      const at = seq++;
      if (!w || w.layer !== i || w.seq !== at) {
        await body.cancel();
        continue;
      }
      if (w.entry.type === "file") yield { entry: w.entry, body };
      else if (orphans.has(w)) {
        await body.cancel();
        const from = w.linked!;
        // the first link to those bytes carries them; the others stay hard links to it (one inode, as before)
        const first = carried.get(from);
        if (first) yield { entry: { ...w.entry, linkname: first } };
        else {
          carried.set(from, w.entry.path);
          yield { entry: { ...from.entry, path: w.entry.path }, body: await bodyAt(layers[from.layer]!, from.seq) };
        }
      } else {
        await body.cancel();
        yield { entry: w.entry };
      }
    }
  }
}

/** The body of the `seq`-th member of a layer, read from a fresh pass; the pass ends when the body is read. */
async function bodyAt(open: OpenLayer, seq: number): Promise<ReadableStream<Uint8Array>> {
  const it = readTar(await open())[Symbol.asyncIterator]();
  for (let s = 0; ; s++) {
    const r = await it.next();
    if (r.done) throw new KbError("INTERNAL", `Cannot squash the layers: member ${seq} of a layer is gone on a second read`);
    if (s < seq) {
      await r.value.body.cancel();
      continue;
    }
    const reader = r.value.body.getReader();
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        const x = await reader.read();
        if (!x.done) return c.enqueue(x.value);
        c.close();
        await it.return?.(undefined);
      },
      async cancel(reason) {
        await reader.cancel(reason);
        await it.return?.(undefined);
      },
    });
  }
}
