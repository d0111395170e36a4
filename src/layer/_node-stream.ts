// Private: runs a web byte stream through a node Duplex (zlib transform or a child's stdio) with backpressure.

import type { Duplex, Readable, Writable } from "node:stream";

/**
 * Pipes `input` into `writable` (awaiting 'drain') and exposes `readable`'s output as a web stream.
 * Output is pulled, so nothing is buffered beyond the node streams' own high-water marks.
 */
export function throughNode(
  input: ReadableStream<Uint8Array>,
  writable: Writable,
  readable: Readable,
  mapError: (e: unknown) => unknown = (e) => e,
  onDone?: () => Promise<void>,
): ReadableStream<Uint8Array> {
  const reader = input.getReader();
  let failed: unknown;
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!writable.write(value)) {
          await new Promise<void>((res, rej) => {
            const onErr = (e: unknown) => { writable.off("drain", onDrain); rej(e); };
            const onDrain = () => { writable.off("error", onErr); res(); };
            writable.once("drain", onDrain);
            writable.once("error", onErr);
          });
        }
      }
      writable.end();
    } catch (e) {
      failed ??= e;
      (readable as Duplex).destroy(e as Error);
      writable.destroy(e as Error);
    }
  })();
  const it = readable[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const r = await it.next();
        if (r.done) {
          await pump;
          if (failed) throw failed;
          await onDone?.();
          c.close();
        } else {
          const b = r.value as Uint8Array;
          c.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
        }
      } catch (e) {
        await reader.cancel(e).catch(() => {});
        c.error(mapError(failed ?? e));
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
      writable.destroy();
      (readable as Duplex).destroy();
    },
  }, { highWaterMark: 0 });
}
