// Cases about RUN on the busybox base: many files written, a base folder deleted, 20 × RUN true, a 100k-file base.

import { writeFileSync } from "node:fs";
import path from "node:path";
import type { BenchCase } from "./types.ts";

const stamp = (dir: string, n: number) => writeFileSync(path.join(dir, "stamp"), `${n}\n`);

/** run-files: one RUN writes 20,000 small files in 20 folders. */
export const runFiles: BenchCase = {
  name: "run-files",
  description: "RUN writing 20,000 files",
  async generate(dir, env) {
    const n = Math.round(20_000 * env.scale);
    stamp(dir, 0);
    writeFileSync(path.join(dir, "gen.sh"), `i=0\nwhile [ $i -lt ${n} ]; do\n  d=/out/d$((i / 1000))\n  [ -d $d ] || mkdir -p $d\n  echo "file $i $(cat /stamp)" > $d/f$i\n  i=$((i + 1))\ndone\n`);
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY stamp gen.sh /\nRUN sh /gen.sh\n`);
  },
  change: stamp,
};

/** delete: a RUN removes base folders (whiteouts in the layer). */
export const deleteCase: BenchCase = {
  name: "delete",
  description: "RUN removing base directories",
  async generate(dir, env) {
    stamp(dir, 0);
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY stamp /stamp\nRUN rm -rf /usr/sbin /usr/bin /home/app\n`);
  },
  change: stamp,
};

/** run-true: 20 × `RUN true` after a COPY, so a change reruns all 20 (per-RUN overhead). */
export const runTrue: BenchCase = {
  name: "run-true",
  description: "20 × RUN true",
  async generate(dir, env) {
    stamp(dir, 0);
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY stamp /stamp\n${"RUN true\n".repeat(20)}`);
  },
  change: stamp,
};

/** big-base: a 100,000-file base image; a RUN changes 10 of its files. */
export const bigBase: BenchCase = {
  name: "big-base",
  description: "RUN changing 10 files of a 100,000-file base",
  async generate(dir, env) {
    const base = await env.bigBase();
    stamp(dir, 0);
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${base}\nCOPY stamp /stamp\nRUN for i in 0 1 2 3 4 5 6 7 8 9; do cat /stamp >> /data/d00$i/f$i.txt; done\n`);
  },
  change: stamp,
};
