// The differential cases without RUN: each Dockerfile is built by kb and by buildah and must give the same
// tree and config (see docs/differences-from-docker.md for what is allowed to differ).

/** A context file: text, or a file with a mode, or a symlink. */
export type CaseFile = string | { mode?: number; content?: string; symlink?: string };

export interface DiffCase {
  name: string;
  /** Dockerfile text; "BASE" is replaced by the busybox reference. */
  dockerfile: string;
  files?: Record<string, CaseFile>;
  /** Files to make with `tar` in the context: archive name → [tar flags..., paths relative to a staging dir]. */
  tars?: Record<string, { files: Record<string, string>; flags?: string[]; members?: string[] }>;
  /** Context files gzipped (no name, no time in the header): path → the text inside. */
  gzipFiles?: Record<string, string>;
  /** Hard links to make in the context: new path → existing file (both relative to the context). */
  hardlinks?: Record<string, string>;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Build this Dockerfile with buildah instead (when buildah lacks the syntax; must mean the same). */
  oracleDockerfile?: string;
  /** Tree paths skipped, each justified in docs/differences-from-docker.md. */
  ignorePaths?: string[];
  /** Mode of the context directory. @default 0o755 */
  contextMode?: number;
  /** Exact difference lines allowed, each → why (docs/differences-from-docker.md explains each kind). */
  allowed?: Record<string, string>;
  /** A confirmed kb bug: the case is a test.todo with this reason until src/ is fixed. */
  kbBug?: string;
  /** BuildKit oracle: exact difference lines allowed, each → why (docs/differences-from-docker.md). */
  bkAllowed?: Record<string, string>;
  /** BuildKit oracle: also build with kb as nobody and as a subuid user, each compared with BuildKit as root. */
  matrix?: boolean;
  /**
   * BuildKit oracle, matrix: why kb as `nobody` (one id, no /etc/subuid range) cannot build this (it needs a second
   * id: chown, or RUN as another USER); kb must then fail with its single-id warning instead of a wrong image.
   */
  singleIdFails?: string;
  /** BuildKit oracle: also compare each layer's tar entries (path, mode, owner), not only the unpacked tree. */
  layerEntries?: boolean;
}

const WORKDIR_ALWAYS = "Docker creates every WORKDIR directory; buildah 1.28 only when a later step writes into it";

const ctxFiles: Record<string, CaseFile> = {
  "a.txt": "A\n",
  "b.txt": "BB\n",
  "c.md": "# c\n",
  "dir/one.txt": "one\n",
  "dir/sub/two.txt": "two\n",
  "dir/link": { symlink: "one.txt" },
  "script.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o644 },
  "exec.sh": { content: "#!/bin/sh\necho exec\n", mode: 0o755 },
  "src/x/app.conf": "x\n",
  "src/y/app.conf": "y\n",
  "src/y/other.conf": "o\n",
};

export const COPY_CASES: DiffCase[] = [
  {
    name: "copy-files-and-dirs",
    files: ctxFiles,
    dockerfile: `FROM BASE
COPY a.txt /a.txt
COPY a.txt /renamed
COPY a.txt b.txt /multi/
COPY a.txt /etc
COPY dir /dircontents
COPY dir/ /dirslash/
COPY dir /var/
COPY exec.sh /usr/local/bin/
`,
  },
  {
    name: "copy-wildcards",
    files: ctxFiles,
    dockerfile: `FROM BASE
COPY *.txt /w1/
COPY src/*/app.conf /w2/
COPY [ab].txt /w3/
COPY ?.md /w4/
COPY src/* /w5/
COPY di* /w6/
`,
  },
  {
    name: "copy-chown-names-and-ids",
    matrix: true,
    files: ctxFiles,
    dockerfile: `FROM BASE
COPY a.txt /o/plain
COPY --chown=app:app a.txt /o/names
COPY --chown=1000 a.txt /o/uid-only
COPY --chown=1000:65534 dir /o/dir-ids/
COPY --chown=nobody a.txt /o/nobody
COPY --chown=daemon:nogroup b.txt /o/mixed
COPY --chown=app dir/ /home/app/d/
`,
  },
  {
    name: "copy-chmod-octal",
    files: ctxFiles,
    allowed: { 'tree cm: mode "0640" != "0755"': "--chmod on a directory COPY also sets the directory it creates: BuildKit >= 0.21 (Docker 28.1); buildah 1.28 leaves 0755" },
    bkAllowed: {
      'root: tree cm: mode "0640" != "0755"': "--chmod on a directory COPY also sets the directory it creates: BuildKit >= 0.21 (Docker 28.1); the 20.10 frontend leaves 0755",
      'root: tree both: mode "4755" != "0755"': "--chown with --chmod=4755: docker.io 20.10 loses the set-uid bit (its copy chowns after setting the mode; chown clears S_ISUID); kb keeps the mode the Dockerfile asks for",
    },
    dockerfile: `FROM BASE
COPY --chmod=0755 script.sh /bin/script
COPY --chmod=600 a.txt /secret
COPY --chmod=0640 dir /cm/
COPY --chown=app:app --chmod=4755 exec.sh /both
`,
  },
  {
    name: "copy-symlinks-from-context",
    files: { ...ctxFiles, "top-link": { symlink: "a.txt" }, "dir2/abs-link": { symlink: "/etc/passwd" }, "dir2/rel": { symlink: "../a.txt" } },
    dockerfile: `FROM BASE
COPY top-link /links/
COPY dir2 /links/inner/
COPY dir /d/
`,
  },
  {
    name: "multi-stage-copy-from",
    files: ctxFiles,
    dockerfile: `FROM BASE AS build
WORKDIR /out
COPY dir ./tree/
FROM BASE AS other
COPY b.txt /b
FROM BASE
COPY --from=build /out /from-build
COPY --from=1 /b /from-index
COPY --from=BASE /etc/passwd /passwd-from-image
`,
  },
  {
    name: "target-stage",
    files: ctxFiles,
    target: "mid",
    dockerfile: `FROM BASE AS first
COPY a.txt /first
FROM first AS mid
COPY b.txt /mid
ENV STAGE=mid
FROM mid
COPY c.md /last
ENV STAGE=last
`,
  },
  {
    name: "env-arg-expansion",
    files: ctxFiles,
    buildArgs: { GIVEN: "from-cli", WHERE: "dir" },
    allowed: {
      'config Env: ["PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=from-cli","B=fallback","C=alt","D=","E=from-cli and $literal","F=dash","OLDSTYLE=two words here","G=from-cli-fallback"] != ["A=from-cli","B=fallback","C=alt","D=","E=from-cli and $literal","F=dash","OLDSTYLE=two words here","PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","G=from-cli-fallback"]':
        "ENV of an existing variable: Docker replaces it in place; buildah 1.28 moves it to the end (same values)",
    },
    dockerfile: `ARG BIMG=BASE
FROM \${BIMG}
ARG GIVEN=default
ARG UNSET
ARG WHERE
ARG EMPTY=
ENV A=\${GIVEN} B=\${UNSET:-fallback} C=\${GIVEN:+alt} D=\${UNSET:+never} E="$GIVEN and \\$literal" F=\${EMPTY:-dash}
ENV OLDSTYLE two words here
ENV PATH=/opt/bin:$PATH
ENV G=$A-\${B}
COPY \${WHERE}/one.txt /expanded/\${GIVEN}.txt
LABEL from.arg=$GIVEN from.env="\${A}"
`,
  },
  {
    name: "labels",
    dockerfile: `FROM BASE
LABEL a=1 b="two words" "c d"=e
LABEL multi.line="first" \\
      second="2"
LABEL a=overridden
LABEL empty=""
`,
  },
  {
    name: "workdir-relative-absolute",
    matrix: true,
    files: ctxFiles,
    allowed: {
      'tree as-app: only in kb ({"gid":1000,"mode":"0755","type":"dir","uid":1000})': WORKDIR_ALWAYS,
      'tree srv: only in kb ({"gid":0,"mode":"0755","type":"dir","uid":0})': WORKDIR_ALWAYS,
      'tree srv/app: only in kb ({"gid":0,"mode":"0755","type":"dir","uid":0})': WORKDIR_ALWAYS,
      'tree srv/other: only in kb ({"gid":0,"mode":"0755","type":"dir","uid":0})': WORKDIR_ALWAYS,
      'tree srv/other/deep: only in kb ({"gid":0,"mode":"0755","type":"dir","uid":0})': WORKDIR_ALWAYS,
    },
    dockerfile: `FROM BASE
WORKDIR /srv
WORKDIR app
WORKDIR ../other/./deep
ENV DIRV=/env-dir
WORKDIR $DIRV/sub
COPY a.txt .
COPY b.txt rel/
USER app
WORKDIR /as-app
`,
  },
  {
    name: "user-forms",
    files: ctxFiles,
    dockerfile: `FROM BASE AS s1
USER app
COPY a.txt /copied-while-app
FROM s1 AS s2
USER 1000:1000
FROM s2
USER app:app
`,
  },
  {
    name: "expose-ranges-protocols",
    dockerfile: `FROM BASE
EXPOSE 80 443/tcp 53/udp
EXPOSE 8000-8002
EXPOSE 9000-9001/udp 7/sctp
`,
  },
  {
    name: "volumes",
    dockerfile: `FROM BASE
VOLUME /data
VOLUME ["/a", "/b"]
VOLUME /c /d
`,
  },
  {
    name: "entrypoint-resets-cmd",
    dockerfile: `FROM BASE
ENTRYPOINT ["/bin/echo"]
`,
  },
  {
    name: "cmd-entrypoint-forms",
    dockerfile: `FROM BASE AS shellforms
ENTRYPOINT top -b
CMD echo "hello world"
FROM shellforms
CMD ["exec", "form"]
`,
  },
  {
    name: "shell-stopsignal-healthcheck",
    allowed: { 'config Cmd: ["/bin/sh","-ec","echo with shell"] != ["/bin/sh","-c","echo with shell"]': "Docker runs the shell form of CMD with SHELL; buildah 1.28 uses /bin/sh -c" },
    dockerfile: `FROM BASE
SHELL ["/bin/sh", "-ec"]
CMD echo with shell
STOPSIGNAL SIGKILL
HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --retries=4 CMD wget -q -O- http://localhost/ || exit 1
`,
  },
  {
    name: "healthcheck-none-and-exec",
    dockerfile: `FROM BASE AS a
HEALTHCHECK CMD ["true"]
STOPSIGNAL 9
FROM a
HEALTHCHECK NONE
`,
  },
  {
    name: "add-local-tar-gz",
    matrix: true,
    files: { "plain.txt": "plain\n" },
    tars: {
      "app.tar.gz": { files: { "app/bin/run": "#!/bin/sh\n", "app/etc/conf": "k=v\n", "app/readme": "r\n" }, flags: ["-z", "--owner=1000", "--group=1000", "--numeric-owner"] },
      "plain.tar": { files: { "t/f": "f\n" }, flags: ["--owner=0", "--group=0", "--numeric-owner"] },
    },
    dockerfile: `FROM BASE
ADD app.tar.gz /opt/
ADD plain.tar /untar/
ADD plain.txt /added/
ADD --chown=app:app plain.txt /added/owned
`,
  },
  {
    name: "heredoc-copy",
    dockerfile: `FROM BASE
COPY <<EOF /etc/greeting
hello
  indented
EOF
COPY <<-EOT /etc/tabs
\tstripped
\tEOT
`,
    files: { greeting: "hello\n  indented\n", tabs: "stripped\n" },
    bkAllowed: {
      'root: history: ["kb test fixture: busybox-static","COPY <<EOF /etc/greeting # buildkit","COPY <<EOT /etc/tabs # buildkit"] != ["kb test fixture: busybox-static","COPY greeting /etc/greeting # buildkit","COPY tabs /etc/tabs # buildkit"]':
        "the 20.10 frontend has no heredocs, so the oracle copies files of the same content; only the history text names differ",
    },
    oracleDockerfile: `FROM BASE
COPY greeting /etc/greeting
COPY tabs /etc/tabs
`,
  },
  {
    name: "dockerignore-exceptions",
    files: {
      ...ctxFiles,
      "keep.log": "k\n",
      "drop.log": "d\n",
      "tmp/cache": "c\n",
      "deep/x/file.bak": "b\n",
      "deep/x/important.bak": "i\n",
      "deep/x/file.txt": "t\n",
      ".dockerignore": "*.log\n!keep.log\ntmp/\n**/*.bak\n!deep/x/important.bak\nsrc/y\n",
    },
    dockerfile: `FROM BASE
COPY . /ctx/
`,
  },
];
