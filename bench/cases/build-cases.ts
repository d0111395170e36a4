// Cases about the build graph and metadata: three stages (two independent), 20 metadata instructions.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRng } from "../lib/rng.ts";
import type { BenchCase } from "./types.ts";

/** multi-stage: stages a and b are independent (each COPYs 1,000 files and RUNs over them); the final stage takes both. */
export const multiStage: BenchCase = {
  name: "multi-stage",
  description: "3 stages, 2 independent (2 × 1,000 files, 2 × 10 MB)",
  async generate(dir, env) {
    const rng = createRng(`${env.seed}/multi-stage`);
    const n = Math.round(1000 * env.scale);
    for (const s of ["a", "b"]) {
      mkdirSync(path.join(dir, s));
      for (let i = 0; i < n; i++) writeFileSync(path.join(dir, s, `f${i}.txt`), rng.text(5000 + rng.int(10_000)));
    }
    writeFileSync(path.join(dir, "Dockerfile"), [
      `FROM ${env.base} AS a`, "COPY a/ /src/a/", "RUN cat /src/a/* | wc -c > /a.count",
      `FROM ${env.base} AS b`, "COPY b/ /src/b/", "RUN cat /src/b/* | wc -c > /b.count",
      `FROM ${env.base}`, "COPY --from=a /src/a /app/a", "COPY --from=a /a.count /app/", "COPY --from=b /src/b /app/b", "COPY --from=b /b.count /app/", "",
    ].join("\n"));
  },
  change(dir, n) {
    writeFileSync(path.join(dir, "a/f3.txt"), `changed ${n}\n`);
  },
};

/** metadata-heavy: one COPY, then 20 metadata instructions (all rerun when the copied file changes). */
export const metadataHeavy: BenchCase = {
  name: "metadata-heavy",
  description: "COPY + 20 metadata instructions",
  async generate(dir, env) {
    writeFileSync(path.join(dir, "stamp"), "0\n");
    writeFileSync(path.join(dir, "Dockerfile"), [
      `FROM ${env.base}`, "COPY stamp /stamp",
      "ARG VERSION=1.0", "ENV APP=/app", "ENV VERSION=${VERSION}", "ENV A=1 B=2 C=3", "ENV PATH=/app/bin:$PATH", "ENV LANG=C.UTF-8",
      'LABEL org.opencontainers.image.title="bench"', "LABEL org.opencontainers.image.version=${VERSION}", "LABEL a=1 b=2", "LABEL c=3", "LABEL d=4",
      "WORKDIR /app", "WORKDIR sub", "EXPOSE 8080", "EXPOSE 53/udp", "USER 1000:1000", "STOPSIGNAL SIGTERM",
      'ENTRYPOINT ["/bin/sh", "-c"]', 'CMD ["echo hello"]', 'VOLUME ["/data"]', "",
    ].join("\n"));
  },
  change(dir, n) {
    writeFileSync(path.join(dir, "stamp"), `${n}\n`);
  },
};
