// Private: the body stream of one tar member, read straight from the shared ByteSource.

import { KbError } from "../errors.ts";
import type { ByteSource } from "./_byte-source.ts";
import { BLOCK } from "./_tar-format.ts";

const MAX_CHUNK = 1 << 20;

/** Exposes `size` bytes of the source as a stream; `settle()` skips whatever the consumer left. */
export class TarBody {
  readonly stream: ReadableStream<Uint8Array>;
  #src: ByteSource;
  #remaining: number;
  #pad: number;
  #what: string;
  #inflight: Promise<unknown> = Promise.resolve();
  #ended = false;
  #error: unknown;
  #done: Promise<void>;
  #resolve!: () => void;

  constructor(src: ByteSource, size: number, expose: boolean, what: string) {
    this.#src = src;
    this.#remaining = size;
    this.#pad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.#what = what;
    this.#done = new Promise((r) => (this.#resolve = r));
    if (!expose) {
      this.stream = new ReadableStream({ start: (c) => c.close() });
      this.#resolve();
      return;
    }
    this.stream = new ReadableStream<Uint8Array>({
      pull: (c) => {
        const p = this.#pull(c);
        this.#inflight = p.catch(() => {});
        return p;
      },
      cancel: () => this.#resolve(),
    }, { highWaterMark: 0 });
  }

  truncated(): KbError {
    return new KbError("LAYER_INVALID", `Cannot read ${this.#what}: the archive ends inside its data`, {
      hint: "The tar or its compressed blob is truncated; fetch it again",
    });
  }

  async #pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      if (this.#remaining > 0) {
        const b = await this.#src.readUpTo(Math.min(this.#remaining, MAX_CHUNK));
        if (!b) throw this.truncated();
        this.#remaining -= b.length;
        c.enqueue(b);
      }
      if (this.#remaining === 0) {
        await this.#finish();
        c.close();
        this.#resolve();
      }
    } catch (e) {
      this.#error = e;
      c.error(e);
      this.#resolve();
    }
  }

  async #finish(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    if ((await this.#src.skip(this.#pad)) < this.#pad) throw this.truncated();
  }

  /** Waits for the consumer (or cancels an untouched body), then skips the rest; throws read errors. */
  async settle(): Promise<void> {
    if (!this.stream.locked) await this.stream.cancel().catch(() => {});
    else await this.#done;
    await this.#inflight;
    if (this.#error) throw this.#error;
    if (this.#remaining > 0) {
      const n = this.#remaining;
      this.#remaining = 0;
      if ((await this.#src.skip(n)) < n) throw this.truncated();
    }
    await this.#finish();
  }
}
