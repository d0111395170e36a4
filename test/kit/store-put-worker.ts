// Test helper run as a separate process: puts blobs into a store (concurrency and crash tests).
// argv: <storeDir> <mode: "put"|"hang"> <seed> <count>

import { openStore } from "../../src/store/index.ts";

const [dir, mode, seedArg, countArg] = process.argv.slice(2);
const store = await openStore(dir);
const seed = Number(seedArg);
const count = Number(countArg);

/** Deterministic bytes: blob i is the same in every process (so writers race on the same names). */
function bytesFor(i: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (i + 1) * 2654435761;
  for (let j = 0; j < size; j++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[j] = x & 0xff;
  }
  return out;
}

if (mode === "put") {
  for (let k = 0; k < count; k++) {
    const i = (k + seed) % count;
    const data = bytesFor(i, 64 * 1024 + i);
    let off = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (off >= data.length) return c.close();
        c.enqueue(data.slice(off, off + 7000));
        off += 7000;
      },
    });
    await store.put(stream);
  }
  await store.withLock("counter", async () => {
    const f = `${dir}/counter.txt`;
    const fs = await import("node:fs/promises");
    const n = Number(await fs.readFile(f, "utf8").catch(() => "0"));
    await new Promise((r) => setTimeout(r, 1));
    await fs.writeFile(f, String(n + 1));
  });
  console.log("done");
} else if (mode === "hang") {
  // Start a put that never finishes; the parent kills this process.
  setInterval(() => {}, 1000);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(1000));
      console.log("started");
    },
  });
  await store.put(stream);
}
