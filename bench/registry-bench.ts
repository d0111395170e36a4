// Benchmark (not a test): push and pull a 200 MB single-layer image to a local registry; wall time and peak RSS.
// Run: node_modules/.bin/bun bench/registry-bench.ts [MB]

import { readFileSync } from "node:fs";
import { parseReference } from "../src/image/index.ts";
import { pushImage, resolveImage } from "../src/registry/index.ts";
import { startRegistry } from "../test/kit/registry-server.ts";
import { clientFor, syntheticImage } from "../test/registry/_helpers.ts";

const mb = Number(process.argv[2] ?? 200);
const vmHwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 50);
const reg = await startRegistry("http");
try {
  const client = clientFor(reg);
  const image = syntheticImage(mb << 20, 42);
  const ref = parseReference(`${reg.host}/bench/big:1`);
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  let t = performance.now();
  await pushImage(client, [ref], image);
  const pushS = (performance.now() - t) / 1000;
  t = performance.now();
  const pulled = await resolveImage(client, ref);
  let n = 0;
  for await (const c of await (await pulled.layers())[0].compressed()) n += c.length;
  const pullS = (performance.now() - t) / 1000;
  if (n !== mb << 20) throw new Error(`pulled ${n} bytes`);
  console.log(JSON.stringify({ mb, pushSeconds: +pushS.toFixed(2), pullSeconds: +pullS.toFixed(2), rssBeforeMB: Math.round(rssBefore), peakRssMB: Math.round(peak), vmHwmMB: Math.round(vmHwm()) }));
} finally {
  clearInterval(timer);
  await reg.stop();
}
