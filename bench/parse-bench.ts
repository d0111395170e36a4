// Parse benchmark: a generated 5,000-instruction Dockerfile through parser, typed instructions and expansion.
// Run: bun bench/parse-bench.ts [instructions]

import { createShellLex, expandInstruction, parseDockerfile, parseDockerfileStream, parseInstructions } from "../src/dockerfile/index.ts";

const count = Number(process.argv[2] ?? 5000);
const kinds = [
  (i: number) => `RUN --mount=type=cache,target=/c${i} echo ${i} && \\\n    echo continued $V`,
  (i: number) => `COPY --chown=1:1 --chmod=644 src/${i} /dst/${i}`,
  (i: number) => `ENV K${i}="v ${i}" L${i}=$V`,
  (i: number) => `RUN <<EOF\necho ${i}\necho $V\nEOF`,
  (i: number) => `LABEL l${i}=x`,
  (i: number) => `WORKDIR /w/$V/${i}`,
];
let text = "# syntax=docker/dockerfile:1\nARG V=1\nFROM alpine AS base\n";
for (let i = 0; i < count - 1; i++) text += kinds[i % kinds.length]!(i) + "\n";

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1) + " MiB";
}
const before = process.memoryUsage().heapUsed;
let t = performance.now();
const parsed = parseDockerfile(text);
const tParse = performance.now() - t;
t = performance.now();
const { stages } = parseInstructions(parsed.nodes);
const tTyped = performance.now() - t;
t = performance.now();
const lex = createShellLex(parsed.escapeToken);
for (const inst of stages[0]!.instructions) expandInstruction(inst, lex, { V: "x" });
const tExpand = performance.now() - t;
const heap = process.memoryUsage().heapUsed - before;

const bytes = new TextEncoder().encode(text);
const stream = new ReadableStream<Uint8Array>({
  start(c) {
    for (let o = 0; o < bytes.length; o += 16384) c.enqueue(bytes.subarray(o, o + 16384));
    c.close();
  },
});
t = performance.now();
let streamed = 0;
for await (const _ of parseDockerfileStream(stream)) streamed++;
const tStream = performance.now() - t;

console.log(`Dockerfile: ${count} instructions, ${(bytes.length / 1024).toFixed(0)} KiB, ${parsed.nodes.length} nodes`);
console.log(`parseDockerfile       ${tParse.toFixed(1)} ms`);
console.log(`parseDockerfileStream ${tStream.toFixed(1)} ms (${streamed} nodes, 16 KiB chunks)`);
console.log(`parseInstructions     ${tTyped.toFixed(1)} ms`);
console.log(`expandInstruction     ${tExpand.toFixed(1)} ms (all instructions)`);
console.log(`heap delta ${mib(heap)}, rss ${mib(process.memoryUsage().rss)}`);
