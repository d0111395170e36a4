// A heredoc body held as the pieces the parser gathered (each ending at a line end), never as one joined string:
// joining a big body copies it, and every consumer (chomp, expansion, cache key, COPY, RUN) works piece by piece,
// so a body costs about its size in memory once (decision 113). An expanded body is lazy: its pieces are made
// again, piece by piece, each time it is read, so the expanded copy is never held whole next to the raw one.

/** Lines are joined into pieces of about this many code units (longer runs of one input chunk stay as they are). */
export const HEREDOC_PIECE = 1 << 20;

/** The text of one heredoc, in pieces. `JSON.stringify` and `String()` give the whole text (small bodies, tests). */
export class HeredocBody {
  #pieces: readonly string[] | undefined;
  #make: (() => Iterable<string>) | undefined;
  #length: number | undefined;
  #bytes: number | undefined;

  constructor(pieces: readonly string[] | string = []) {
    this.#pieces = typeof pieces === "string" ? (pieces ? [pieces] : []) : pieces.filter((p) => p.length > 0);
  }

  /** A body whose pieces `make` produces on each read; `length` and `bytes` are its sizes, known beforehand. */
  static lazy(make: () => Iterable<string>, length: number, bytes: number): HeredocBody {
    const b = new HeredocBody();
    b.#pieces = undefined;
    b.#make = make;
    b.#length = length;
    b.#bytes = bytes;
    return b;
  }

  /** The pieces in order (a lazy body makes them again): what streaming consumers iterate. */
  each(): Iterable<string> {
    return this.#pieces ?? this.#make!();
  }
  /** The pieces as an array (a lazy body is made whole: only for small bodies and tests). */
  get pieces(): readonly string[] {
    return this.#pieces ?? [...this.#make!()];
  }
  /** Length in UTF-16 code units. */
  get length(): number {
    if (this.#length === undefined) {
      let n = 0;
      for (const p of this.each()) n += p.length;
      this.#length = n;
    }
    return this.#length;
  }
  /** Length in UTF-8 bytes (pieces end at line ends, so no surrogate pair is split). */
  byteLength(): number {
    if (this.#bytes === undefined) {
      let n = 0;
      for (const p of this.each()) n += Buffer.byteLength(p);
      this.#bytes = n;
    }
    return this.#bytes;
  }
  startsWith(s: string): boolean {
    return this.text(s.length).startsWith(s);
  }
  endsWith(s: string): boolean {
    let last = "";
    for (const p of this.each()) last = p;
    return last.length >= s.length ? last.endsWith(s) : this.text().endsWith(s);
  }
  /** A new body with `fn` applied to each piece (a piece that `fn` returns unchanged is shared, not copied). */
  map(fn: (piece: string) => string): HeredocBody {
    return new HeredocBody(this.pieces.map(fn));
  }
  /** The whole text joined (or its first `max` code units): only for small bodies or prefixes. */
  text(max = Infinity): string {
    let out = "";
    for (const p of this.each()) {
      if (out.length >= max) break;
      out += p;
    }
    return max === Infinity ? out : out.slice(0, max);
  }
  toString(): string {
    return this.text();
  }
  toJSON(): string {
    return this.text();
  }
}
