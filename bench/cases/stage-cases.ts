// Cases where a stage on a large base (Debian minbase) feeds small artefacts to busybox stages: the builds
// people run (compile in a full distribution, ship a few files). Both need CaseEnv.debian() (root, debootstrap).

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { debianBase } from "../../test/kit/debian-base.ts";
import { createRng } from "../lib/rng.ts";
import type { BenchCase } from "./types.ts";

// A compiler-like step with only what minbase has: one process reading every source and doing about a second of
// CPU work (as gcc on a small program does), writing a few hundred KB of artefacts under /out.
const BUILD_SH = (n: number) => [
  "#!/bin/sh",
  `# build script, revision ${n}`,
  "set -e",
  "mkdir -p /out/bin /out/share",
  "cat /src/*.c /src/*.c /src/*.c | gzip -9 > /out/bin/app",
  "sha256sum /src/*.c > /out/share/objects.txt",
  "head -c 409600 /dev/zero | tr '\\0' x > /out/bin/tool",
  "echo ok > /out/share/version",
  "",
].join("\n");

/** multi-stage-debian: a Debian build stage compiles 200 sources; two busybox stages each take artefacts. */
export const multiStageDebian: BenchCase = {
  name: "multi-stage-debian",
  description: "Debian build stage (compiler-like RUN over 200 sources) → 2 busybox stages via COPY --from",
  async generate(dir, env) {
    const debian = await env.debian();
    const rng = createRng(`${env.seed}/multi-stage-debian`);
    mkdirSync(path.join(dir, "src"));
    const n = Math.max(20, Math.round(200 * env.scale));
    for (let i = 0; i < n; i++) writeFileSync(path.join(dir, "src", `m${i}.c`), rng.text(2000 + rng.int(6000)));
    writeFileSync(path.join(dir, "build.sh"), BUILD_SH(0));
    writeFileSync(path.join(dir, "Dockerfile"), [
      `FROM ${debian} AS build`, "COPY src/ /src/", "COPY build.sh /build.sh", "RUN sh /build.sh",
      `FROM ${env.base} AS app`, "COPY --from=build /out/bin/app /usr/local/bin/app", "COPY --from=build /out/share /usr/share/app",
      `FROM ${env.base}`, "COPY --from=build /out/bin/tool /usr/local/bin/tool", "COPY --from=app /usr/local/bin/app /usr/local/bin/app", "",
    ].join("\n"));
  },
  change(dir, n) {
    writeFileSync(path.join(dir, "build.sh"), BUILD_SH(n));
  },
};

/** copy-from-small: one small file made in a stage on the Debian base and copied into busybox. */
export const copyFromSmall: BenchCase = {
  name: "copy-from-small",
  description: "one 4 KB file from a stage on Debian minbase into busybox",
  async generate(dir, env) {
    const debian = await env.debian();
    writeFileSync(path.join(dir, "input.txt"), createRng(`${env.seed}/copy-from-small`).text(4096));
    writeFileSync(path.join(dir, "Dockerfile"), [
      `FROM ${debian} AS gen`, "COPY input.txt /input.txt", "RUN cp /input.txt /small.txt && date -u -r /input.txt >> /small.txt",
      `FROM ${env.base}`, "COPY --from=gen /small.txt /small.txt", "",
    ].join("\n"));
  },
  change(dir, n) {
    writeFileSync(path.join(dir, "input.txt"), `changed ${n}\n`);
  },
};

/** debian-usr: COPY of Debian minbase's /usr (121 MB of binaries, libraries and docs): real data for compressed size. */
export const debianUsr: BenchCase = {
  name: "debian-usr",
  description: "COPY of Debian minbase /usr (121 MB real binaries and docs)",
  async generate(dir, env) {
    await env.debian();
    const { rootfs } = debianBase();
    execFileSync("cp", ["-a", path.join(rootfs, "usr"), path.join(dir, "usr")]);
    writeFileSync(path.join(dir, "Dockerfile"), `FROM ${env.base}\nCOPY usr/ /usr/\n`);
  },
  change(dir, n) {
    writeFileSync(path.join(dir, "usr/share/doc/changed.txt"), `changed ${n}\n`);
  },
};
