// Cases that only copy from the context: many small files, one large file, a 2 GB image.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRng, flipByte, writeRandomFile } from "../lib/rng.ts";
import type { BenchCase } from "./types.ts";

/** copy-only: 5,000 small files (50 MB in total, sizes 1–19 KiB, half random, half text) under 50 folders. */
export const copyOnly: BenchCase = {
  name: "copy-only",
  description: "COPY of 5,000 small files, 50 MB",
  async generate(dir, env) {
    const rng = createRng(`${env.seed}/copy-only`);
    const count = Math.round(5000 * env.scale);
    const avg = 10_000;
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY files/ /app/\n`);
    for (let i = 0; i < count; i++) {
      const sub = path.join(dir, "files", `d${String(i % 50).padStart(2, "0")}`);
      if (i < 50) mkdirSync(sub, { recursive: true });
      const size = 1024 + rng.int(2 * avg - 2048);
      writeFileSync(path.join(sub, `f${i}.dat`), i % 2 ? rng.bytes(size) : rng.text(size));
    }
  },
  change(dir, n) {
    writeFileSync(path.join(dir, "files/d07/f7.dat"), `changed ${n}\n`);
  },
};

/** large-file: one 200 MB incompressible file. */
export const largeFile: BenchCase = {
  name: "large-file",
  description: "COPY of one 200 MB file",
  async generate(dir, env) {
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY big.bin /data/big.bin\n`);
    writeRandomFile(path.join(dir, "big.bin"), Math.round(200e6 * env.scale), `${env.seed}/large-file`);
  },
  change(dir, n) {
    flipByte(path.join(dir, "big.bin"), 12345, n);
  },
};

/** 2gb-image: four 512 MiB incompressible files, for peak memory (heavy). */
export const twoGbImage: BenchCase = {
  name: "2gb-image",
  description: "COPY of 4 × 512 MiB files (2 GiB image)",
  heavy: true,
  async generate(dir, env) {
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY big/ /big/\n`);
    mkdirSync(path.join(dir, "big"));
    for (let i = 0; i < 4; i++) writeRandomFile(path.join(dir, `big/part${i}.bin`), Math.round((512 << 20) * env.scale), `${env.seed}/2gb/${i}`);
  },
  change(dir, n) {
    flipByte(path.join(dir, "big/part3.bin"), 777, n);
  },
};
