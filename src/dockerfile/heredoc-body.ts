// A heredoc body held as the pieces the parser gathered (about 1 MiB each, each ending at a line end), never as one
// joined string: joining a big body copies it, and every consumer (chomp, expansion, cache key, COPY, RUN) can
// work piece by piece, so a body costs about its size in memory once (decision 110, "Heredoc memory").

/** Pieces are cut at the first line end past this many code units. */
export const HEREDOC_PIECE = 1 << 20;

/** The text of one heredoc, in pieces. `JSON.stringify` and `String()` give the whole text (small bodies, tests). */
export class HeredocBody {
  readonly pieces: readonly string[];
  constructor(pieces: readonly string[] | string = []) {
    this.pieces = typeof pieces === "string" ? (pieces ? [pieces] : []) : pieces.filter((p) => p.length > 0);
  }
  /** Length in UTF-16 code units. */
  get length(): number {
    let n = 0;
    for (const p of this.pieces) n += p.length;
    return n;
  }
  /** Length in UTF-8 bytes (pieces end at line ends, so no surrogate pair is split). */
  byteLength(): number {
    let n = 0;
    for (const p of this.pieces) n += Buffer.byteLength(p);
    return n;
  }
  startsWith(s: string): boolean {
    return this.text(s.length).startsWith(s);
  }
  endsWith(s: string): boolean {
    const last = this.pieces[this.pieces.length - 1];
    return last === undefined ? s === "" : last.length >= s.length ? last.endsWith(s) : this.text().endsWith(s);
  }
  /** A new body with `fn` applied to each piece (a piece that `fn` returns unchanged is shared, not copied). */
  map(fn: (piece: string) => string): HeredocBody {
    return new HeredocBody(this.pieces.map(fn));
  }
  /** The whole text joined (or its first `max` code units): only for small bodies or prefixes. */
  text(max = Infinity): string {
    let out = "";
    for (const p of this.pieces) {
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
