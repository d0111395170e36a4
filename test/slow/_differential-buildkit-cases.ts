// Differential cases from issue 14 (real-world Dockerfiles built with kb and with BuildKit): each one showed a
// difference from Docker's builder. `matrix` cases are also built by kb as nobody and as a subuid user.

import type { DiffCase } from "./_differential-cases.ts";

export const BUILDKIT_CASES: DiffCase[] = [
  {
    name: "run-home-from-passwd",
    matrix: true,
    singleIdFails: "chown app:app needs uid 1000 in the namespace",
    dockerfile: `FROM BASE
RUN echo "root home=$HOME" > ~/f && cp ~/f /root-home && chown app:app /home/app
USER app
RUN touch ~/x && echo "app home=$HOME" > /tmp/app-home
USER root
ENV HOME=/custom
RUN echo "set home=$HOME" > /set-home
`,
  },
  {
    name: "arg-name-expands",
    files: { "myfile.txt": "m\n", "other.txt": "o\n" },
    dockerfile: `FROM BASE
ENV src=myarg
ARG \${src}=myfile.txt
COPY $myarg /copied/
LABEL v=$myarg
`,
  },
  {
    name: "from-stage-inherits-args",
    dockerfile: `FROM BASE AS base
ARG flavour=base-flavour
FROM base
RUN echo "inherited flavour=[$flavour]" > /flavour
LABEL flavour=$flavour
`,
  },
  {
    name: "user-root-without-passwd",
    files: { "f.txt": "f\n" },
    dockerfile: `FROM scratch
USER root
WORKDIR /w
COPY f.txt .
USER 4321:4321
WORKDIR /a/b
COPY f.txt .
`,
  },
  {
    name: "workdir-owned-by-user",
    matrix: true,
    dockerfile: `FROM BASE
USER 4321:4321
WORKDIR /a/b
USER app
WORKDIR /home/app/work/deep
`,
  },
  {
    name: "subuid-keeps-owners-copy-chown",
    matrix: true,
    singleIdFails: "RUN as USER nobody needs uid 65534 in the namespace",
    files: { f: "x\n" },
    dockerfile: `FROM BASE
COPY --chown=65534:65534 f /app/f
USER nobody
RUN echo x >> /app/f
`,
  },
  {
    name: "subuid-keeps-owners-run-chown",
    matrix: true,
    singleIdFails: "chown 65534 needs uid 65534 in the namespace",
    dockerfile: `FROM BASE
RUN mkdir -p /home/nb && chown 65534 /home/nb
USER nobody
WORKDIR /home/nb
RUN touch x
`,
  },
  {
    name: "implied-parents-copy-from-scratch",
    layerEntries: true,
    dockerfile: `FROM BASE AS s
FROM scratch
COPY --from=s /bin/busybox /bin/busybox
`,
  },
  {
    name: "implied-parents-add-tar",
    layerEntries: true,
    tars: { "x.tar": { files: { "sub/deeper/f": "f\n", "top": "t\n" }, flags: ["--owner=0", "--group=0", "--numeric-owner"], members: ["sub/deeper/f", "top"] } },
    dockerfile: `FROM scratch
ADD x.tar /d/
`,
  },
  {
    name: "copy-from-through-absolute-symlinks",
    dockerfile: `FROM BASE AS s
RUN mkdir -p /opt/real/sub && echo x > /opt/real/f && echo y > /opt/real/sub/g && ln -s /opt/real /link && ln -s /opt/real/f /flink && ln -s ../../opt/real /up
FROM BASE
COPY --from=s /link/f /f
COPY --from=s /flink /flink
COPY --from=s /link /dir/
COPY --from=s /up/sub /upsub/
`,
  },
  {
    name: "run-that-changes-nothing",
    dockerfile: `FROM BASE
RUN true
RUN echo changed > /changed
RUN test -f /changed
`,
  },
];
