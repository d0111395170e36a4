// Private: a buffered reader over a web byte stream that hands out exact blocks or bounded slices.

/** Reads a ReadableStream in exact-size pieces while tracking the absolute offset. */
export class ByteSource {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;
  /** Bytes handed out so far. */
  offset = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.length === 0 && !this.#eof) {
      const { done, value } = await this.#reader.read();
      if (done) this.#eof = true;
      else this.#buf = value;
    }
    return this.#buf.length > 0;
  }

  /** Up to `max` bytes without copying; undefined at end of stream. */
  async readUpTo(max: number): Promise<Uint8Array | undefined> {
    if (!(await this.#fill())) return undefined;
    const n = Math.min(max, this.#buf.length);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes (copied when they span chunks); fewer only at end of stream. */
  async readExact(n: number): Promise<Uint8Array> {
    const first = await this.readUpTo(n);
    if (!first || first.length === n) return first ?? new Uint8Array(0);
    const out = new Uint8Array(n);
    out.set(first, 0);
    let got = first.length;
    while (got < n) {
      const more = await this.readUpTo(n - got);
      if (!more) return out.subarray(0, got);
      out.set(more, got);
      got += more.length;
    }
    return out;
  }

  /** Skips `n` bytes; returns how many were actually skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const b = await this.readUpTo(left);
      if (!b) break;
      left -= b.length;
    }
    return n - left;
  }

  /** Reads and discards the rest of the stream. */
  async drain(): Promise<void> {
    while (await this.readUpTo(1 << 30));
  }

  async cancel(reason?: unknown): Promise<void> {
    await this.#reader.cancel(reason).catch(() => {});
  }
}
