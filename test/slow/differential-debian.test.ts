// BuildKit differential on a Debian bookworm base (slow): what busybox cannot show. Debian links /bin, /sbin and
// /lib into /usr and /var/run, /var/lock into /run, has real users (useradd, nobody's /nonexistent home) and bash.
// Each Dockerfile is built by Docker's builder (a private dockerd) and by kb as root (and, for `matrix` cases, as a
// user with an /etc/subuid range), pushed to a real registry and compared: tree, config, history, layer count.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { buildkitBuild, buildkitUnavailable, compareWithBuildkit, snapshot, startDockerd, type Dockerd } from "../kit/buildkit.ts";
import { debianBaseUnavailable, pushDebianImage } from "../kit/debian-base.ts";
import { kb, tempDir } from "../kit/kb.ts";
import { startRegistry, type TestRegistry } from "../kit/registry-server.ts";
import { ensureSubidUser, kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";
import { caseContext } from "./_case-context.ts";
import type { DiffCase } from "./_differential-cases.ts";

const skip = process.env.KB_SLOW_TESTS !== "1" ? "slow suite: set KB_SLOW_TESTS=1 to run it"
  : buildkitUnavailable() ?? debianBaseUnavailable() ?? rootlessSkipReason();
if (skip) console.log(`differential-debian.test.ts: skipped: ${skip}`);

const files = { "a.txt": "A\n", tool: { content: "#!/bin/sh\necho tool\n", mode: 0o755 }, "lib/libkb.so": "not really a library\n" };

const CASES: DiffCase[] = [
  {
    // kb once wrote `bin/tool`, which hid all of /usr/bin behind a new /bin directory (/bin/sh gone).
    name: "debian-merged-usr",
    matrix: true,
    files,
    dockerfile: `FROM BASE
COPY tool /bin/
COPY lib/ /lib/x86_64-linux-gnu/kbtest/
WORKDIR /sbin/kbwork
COPY a.txt .
RUN /bin/sh -c 'tool; cat /usr/sbin/kbwork/a.txt /usr/lib/x86_64-linux-gnu/kbtest/libkb.so' > /seen && readlink /bin /lib > /links
`,
  },
  {
    name: "debian-copy-from-into-merged-usr",
    matrix: true,
    dockerfile: `FROM BASE AS build
RUN mkdir -p /out/lib/kbtest /out/bin && echo lib > /out/lib/kbtest/libkb.txt && printf '#!/bin/sh\\necho built\\n' > /out/bin/built && chmod 0750 /out/bin /out/bin/built
FROM BASE
COPY --from=build /out/lib/ /lib/
COPY --from=build /out/bin/ /sbin/
RUN built > /seen && ls -ld /usr/sbin /usr/lib | cut -c1-10 > /modes
`,
  },
  {
    name: "debian-run-links",
    matrix: true,
    files,
    dockerfile: `FROM BASE
COPY a.txt /var/run/kbapp/
RUN --mount=type=tmpfs,target=/var/lock/kbtmp --mount=type=bind,target=/var/run/kbctx ls -d /run/lock/kbtmp /run/kbctx/a.txt > /seen
WORKDIR /var/run/kbwork
RUN pwd -P > /run-real-path
`,
  },
  {
    name: "debian-users-and-home",
    files,
    dockerfile: `FROM BASE
RUN useradd -m -u 1001 -s /bin/bash app && mkdir /data && chown app:app /data
COPY --chown=app:app a.txt /data/
USER app
WORKDIR /home/app/work
RUN echo "$HOME" > home.txt && id > id.txt && touch /data/by-app
USER nobody
RUN echo "$HOME" > /tmp/nobody-home
USER root
RUN echo "$HOME" > /root/home.txt
`,
  },
  {
    name: "debian-bash-shell-and-path",
    matrix: true,
    dockerfile: `FROM BASE
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN echo "\${BASH_VERSION%%.*}" | tr -d '\\n' > /bash-major
ENV PATH=/opt/kb/bin:$PATH
RUN mkdir -p /opt/kb/bin && printf '#!/bin/sh\\necho tool\\n' > /opt/kb/bin/t && chmod +x /opt/kb/bin/t && t > /t.out
`,
  },
  {
    // Docker leaves no_new_privs off: a setuid program works for a USER (sudo after `USER app`); kb set it once.
    name: "debian-setuid-for-a-user",
    matrix: true,
    dockerfile: `FROM BASE
RUN cp /usr/bin/id /usr/local/bin/suid-id && chmod 4755 /usr/local/bin/suid-id
USER nobody
RUN suid-id > /tmp/ids && grep '^NoNewPrivs' /proc/self/status >> /tmp/ids
`,
  },
  {
    // A `chmod -R`/`chown -R` that changes nothing copies every file up into the RUN's upperdir; BuildKit's differ
    // leaves such copy-ups out (7 MB and 1,862 entries in kb's layer before, 1.2 KB and 13 in BuildKit's), and a
    // lock file useradd only opened (/etc/.pwd.lock) with them.
    name: "debian-noop-chmod-chown",
    matrix: true,
    layerEntries: true,
    dockerfile: `FROM BASE
RUN chmod -R a+rX /usr/share/doc && chown -R root:root /usr/share/zoneinfo && useradd kbx && chmod 644 /etc/debian_version
`,
  },
  {
    name: "debian-everyday-build",
    files,
    tars: { "site.tar": { files: { "index.html": "<h1>kb</h1>\n", "css/site.css": "h1{}\n" } } },
    dockerfile: `FROM BASE AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt/lists ls /var/cache/apt > /dev/null && mkdir -p /out && echo built > /out/app
FROM BASE
COPY --chmod=0755 tool /usr/local/bin/
ADD site.tar /var/www/html/
COPY --from=build --chown=www-data:www-data /out/ /srv/app/
RUN chown -R www-data /var/www && echo $((6*7)) > /answer
USER www-data
WORKDIR /srv/app
EXPOSE 8080
CMD ["tool"]
`,
  },
];

let reg: TestRegistry;
let base: string;
let dockerd: Dockerd;
let cache: string;
beforeAll(async () => {
  if (skip) return;
  reg = await startRegistry("http");
  base = await pushDebianImage(reg);
  dockerd = await startDockerd();
  cache = tempDir("kb-cache-");
  ensureSubidUser();
}, 600_000);
afterAll(async () => {
  await dockerd?.stop();
  await reg?.stop();
}, 120_000);

describe.skipIf(!!skip)("BuildKit differential on Debian bookworm", () => {
  const only = process.env.KB_DIFF_ONLY?.split(",");
  for (const c of CASES.filter((x) => !only || only.includes(x.name))) {
    test(`kb and BuildKit build the same image: ${c.name}`, async () => {
      const bkRef = `${reg.host}/buildkit/${c.name}:1`;
      await buildkitBuild(dockerd, caseContext(c, c.dockerfile, base), { tag: bkRef });
      const want = snapshot(bkRef);
      const diffs: string[] = [];
      const ref = `${reg.host}/kb/${c.name}:root`;
      const r = await kb(["build", "--progress", "plain", "--cache-dir", cache, "-t", ref, caseContext(c, c.dockerfile, base)]);
      if (r.code !== 0) diffs.push(`root: kb build failed (${r.code}): ${r.err.slice(-2000)}`);
      else diffs.push(...compareWithBuildkit(snapshot(ref), want).map((d) => `root: ${d}`));
      if (c.matrix) {
        const ctx = caseContext(c, c.dockerfile, base);
        chmodSync(ctx, 0o755);
        const uref = `${reg.host}/kb/${c.name}:subuid`;
        const u = kbAs("kbtest", "kbtest", userHome("kbtest"), ["build", "--progress", "plain", "-t", uref, ctx]);
        if (u.code !== 0) diffs.push(`subuid: kb build failed (${u.code}): ${u.err.slice(-2000)}`);
        else diffs.push(...compareWithBuildkit(snapshot(uref), want).map((d) => `subuid: ${d}`));
      }
      expect(diffs).toEqual([]);
    }, 600_000);
  }
});
