// The differential cases with RUN (busybox base): what RUN changes must reach the layer as Docker records it.

import type { DiffCase } from "./_differential-cases.ts";

const HARDLINK_TO_LOWER = "a hard link to a base-layer file: Docker (overlayfs copy-up) stores both names as one inode; buildah 1.28 stores the new name as a separate copy";

const GROUPS = "`id` as a user in no /etc/group entry: BuildKit (runc) sets no supplementary groups, so no groups=; buildah 1.28 adds the primary gid";
const WORKDIR_LAZY = "WORKDIR /w as root then COPY --chown=app:app into it: BuildKit makes /w at WORKDIR (root); buildah 1.28 makes it at the COPY, owned by app";

export const RUN_CASES: DiffCase[] = [
  {
    name: "run-create-delete-chmod",
    matrix: true,
    dockerfile: `FROM BASE
RUN echo new > /new.txt && chmod 4755 /new.txt && rm /bin/vi && rm -rf /usr/sbin && chmod 0700 /home/app \\
 && mkdir -p /opt/empty /opt/full && echo x > /opt/full/x && echo appended >> /etc/group
RUN rm /new.txt && echo again > /new.txt && chmod 0600 /new.txt
`,
  },
  {
    name: "run-opaque-directory",
    dockerfile: `FROM BASE
RUN mkdir -p /opt/d/sub && touch /opt/d/a /opt/d/b /opt/d/sub/c
RUN rm -rf /opt/d && mkdir /opt/d && touch /opt/d/new
RUN rm -rf /home/app && mkdir -p /home/app/fresh
`,
  },
  {
    name: "run-symlinks-hardlinks",
    allowed: {
      "tree bin/busybox: nlink 2 != 1": HARDLINK_TO_LOWER,
      "tree bin/busybox-hard: nlink 2 != 1": HARDLINK_TO_LOWER,
    },
    bkAllowed: {
      "root: tree bin/busybox: nlink 2 != 1": "a hard link to a base-layer file: kb keeps one inode (as Docker on overlayfs); the oracle's dockerd runs on vfs, whose diff stores the new name as a copy",
      "root: tree bin/busybox-hard: nlink 2 != 1": "same as bin/busybox (vfs oracle)",
    },
    dockerfile: `FROM BASE
RUN mkdir -p /usr/local/bin && ln -s /bin/busybox /usr/local/bin/tool && ln -s dangling /broken && ln -s ../etc /opt-etc \\
 && mkdir /h && echo data > /h/one && ln /h/one /h/two && ln /h/one /h/three
RUN ln /bin/busybox /bin/busybox-hard && rm /bin/sh && ln -s busybox /bin/sh
`,
  },
  {
    name: "run-user",
    matrix: true,
    singleIdFails: "RUN as USER app needs uid 1000 in the namespace",
    allowed: {
      "tree tmp/id.txt: size 28 != 45": GROUPS,
      'tree tmp/id.txt: sha256 "7e57bf549b39ad1f50f7ad3ca4a49dc93b5e370c23dc1883af04eb8fc6511685" != "2bdd0c4c5958ce5c13ff7e14759fc1aa1a2d1ce185a07919cfc1f57f93503f86"': GROUPS,
    },
    dockerfile: `FROM BASE
USER app
RUN id > /tmp/id.txt && mkdir /tmp/mine && touch /tmp/mine/f && umask 077 && touch /tmp/private
USER 1000:65534
RUN touch /tmp/group-nogroup
USER root
RUN chown 65534:65534 /tmp/mine && touch /root/as-root
`,
  },
  {
    name: "run-env-arg-forms-workdir",
    allowed: {
      "tree w: uid 0 != 1000": WORKDIR_LAZY,
      "tree w: gid 0 != 1000": WORKDIR_LAZY,
    },
    files: { "in.txt": "input\n" },
    buildArgs: { V: "cli" },
    dockerfile: `FROM BASE
ARG V=default
ENV E=env-value
WORKDIR /w
COPY --chown=app:app in.txt .
RUN echo "$V $E $(pwd)" > out.txt && cat in.txt >> out.txt
RUN ["sh", "-c", "echo exec-form $E > /w/exec.txt"]
SHELL ["/bin/sh", "-ec"]
RUN test "$E" = env-value && echo shell-form > /w/shell.txt
`,
  },
  {
    name: "run-after-copy-over-base",
    files: { "passwd-extra": "extra:x:2000:2000::/:/bin/false\n" },
    dockerfile: `FROM BASE AS tools
RUN mkdir -p /out && echo built > /out/artifact && chmod 0750 /out/artifact
FROM BASE
COPY --from=tools /out/artifact /usr/local/share/artifact
COPY passwd-extra /opt/
RUN cat /opt/passwd-extra >> /etc/passwd && rm /opt/passwd-extra && mkdir -p /data && chown extra /data
`,
  },
];
