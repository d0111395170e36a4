// More differential cases so every instruction and flag BuildKit 20.10's frontend supports is built by both
// tools: ADD forms, COPY --from an image, ONBUILD, MAINTAINER, global ARGs, RUN --mount (cache, bind, tmpfs,
// secret-less), RUN --network, ENV/ARG interplay, USER forms with RUN, WORKDIR edge cases, .dockerignore, EXPOSE.

import type { DiffCase } from "./_differential-cases.ts";

const files = { "a.txt": "A\n", "b.txt": "BB\n", "dir/one.txt": "one\n", "dir/sub/two.txt": "two\n", "run.sh": { content: "#!/bin/sh\necho run\n", mode: 0o755 } };

export const MORE_CASES: DiffCase[] = [
  { name: "onbuild-triggers", files, dockerfile: `FROM BASE AS parent\nONBUILD COPY a.txt /onbuild-a\nONBUILD ENV FROM_TRIGGER=1\nLABEL stage=parent\n` },
  { name: "maintainer", dockerfile: `FROM BASE\nMAINTAINER kb tests <kb@example.com>\n` },
  { name: "global-arg-in-from-and-stage", files, buildArgs: { TAGV: "x" }, dockerfile: `ARG BIMG=BASE\nARG TAGV=default\nFROM \${BIMG}\nARG TAGV\nLABEL tag=$TAGV\nCOPY a.txt /tag-$TAGV\n` },
  { name: "add-chown-and-dest-forms", files, dockerfile: `FROM BASE\nADD --chown=1000:1000 a.txt /added/owned\nADD b.txt dir /added/many/\nADD --chown=app dir/ /home/app/added/\n` },
  { name: "copy-from-image", dockerfile: `FROM BASE\nCOPY --from=BASE /bin/busybox /opt/bb\nCOPY --from=BASE /etc /opt/etc/\n` },
  { name: "copy-dest-relative-to-workdir", files, dockerfile: `FROM BASE\nWORKDIR /srv/app\nCOPY a.txt ./\nCOPY b.txt renamed\nCOPY dir sub/\nWORKDIR /srv/app/sub\nCOPY a.txt ../up.txt\n` },
  { name: "workdir-root-and-repeat", dockerfile: `FROM BASE\nWORKDIR /\nWORKDIR /tmp\nWORKDIR /data\nWORKDIR /data\nWORKDIR /\n` },
  { name: "env-forms-and-override", dockerfile: `FROM BASE\nENV A=1 B="two words" C=three\\ words\nENV A=overridden\nENV PATH=/custom/bin:$PATH\nENV EMPTY=\n` },
  { name: "arg-env-precedence", buildArgs: { X: "from-cli" }, dockerfile: `FROM BASE\nARG X=default\nENV X=env-wins\nRUN echo "$X" > /x.txt\nLABEL x=$X\n` },
  { name: "user-numeric-group-run", matrix: true, singleIdFails: "RUN as USER 1000:65534 needs a second id", dockerfile: `FROM BASE\nUSER 1000:65534\nRUN touch /tmp/numeric && id > /tmp/id-numeric\nUSER daemon\nRUN id > /tmp/id-daemon\n` },
  { name: "run-exec-form-and-env", dockerfile: `FROM BASE\nENV GREETING=hi\nRUN ["/bin/sh", "-c", "echo $GREETING > /exec.txt"]\nRUN ["/bin/touch", "/touched"]\n` },
  // RUN --network needs the labs frontend in 20.10 ("Unknown flag: network"): the oracle runs the same command without it.
  { name: "run-network-none", dockerfile: `FROM BASE\nRUN --network=none echo offline > /offline\n`, oracleDockerfile: `FROM BASE\nRUN echo offline > /offline\n` },
  { name: "run-mount-cache", dockerfile: `FROM BASE\nRUN --mount=type=cache,target=/cache echo cached > /cache/f && cp /cache/f /from-cache\nRUN --mount=type=cache,target=/cache,id=other ls /cache > /other-cache-listing\n` },
  { name: "run-mount-bind-context", files, dockerfile: `FROM BASE\nRUN --mount=type=bind,target=/ctx cat /ctx/a.txt /ctx/dir/one.txt > /bound\n` },
  { name: "run-mount-bind-stage", dockerfile: `FROM BASE AS build\nRUN mkdir /out && echo artifact > /out/art\nFROM BASE\nRUN --mount=type=bind,from=build,source=/out,target=/mnt/out cp /mnt/out/art /art\n` },
  { name: "run-mount-tmpfs", dockerfile: `FROM BASE\nRUN --mount=type=tmpfs,target=/scratch echo tmp > /scratch/f && cat /scratch/f > /from-tmpfs\n` },
  // runc places a mount through the image's symlinks (securejoin): /x -> /y puts /x/ctx at /y/ctx, and the layer keeps y/ctx/.
  { name: "run-mount-target-through-symlink", matrix: true, files, dockerfile: `FROM BASE\nRUN mkdir -p /y /q && ln -s /y /x && ln -s ../y /r && ln -s /q/deep /d\nRUN --mount=type=bind,target=/x/ctx --mount=type=tmpfs,target=/r/tt --mount=type=cache,target=/d/c/e cat /y/ctx/a.txt > /bound && ls /y/tt /q/deep/c/e > /listed\n` },
  // COPY, ADD and WORKDIR write through the image's symlinks (continuity's fs.RootPath), the last part included:
  // Debian's merged /usr (/bin -> usr/bin) is the everyday case; a layer entry under the link would hide its target.
  { name: "copy-workdir-through-symlinks", matrix: true, files, dockerfile: `FROM BASE\nRUN mkdir -p /y/z /usr/lib && echo old > /y/f && ln -s /y /x && ln -s usr/lib /lib2 && ln -s ../y/z /rel && ln -s /y/f /lnk && ln -s /nonexist/f /dangling\nCOPY a.txt /x/\nCOPY a.txt /lib2/liba.txt\nCOPY dir /rel/d2/\nADD b.txt /x\nCOPY a.txt /lnk\nCOPY a.txt /dangling\nWORKDIR /x/w\nCOPY a.txt .\nRUN ls /y/w/a.txt /usr/lib/liba.txt > /listed\n` },
  // COPY --from sources through the stage's symlinks: a directory link on the way, a link named as the source (followed), a link to a directory.
  { name: "copy-from-sources-through-symlinks", dockerfile: `FROM BASE AS build\nRUN mkdir -p /rel/v1/bin && echo tool > /rel/v1/bin/t && ln -s v1 /rel/current && ln -s /rel/v1 /abs && ln -s /rel/v1/bin/t /tlink && ln -s t /rel/v1/bin/tl\nFROM BASE\nCOPY --from=build /rel/current/bin /b1\nCOPY --from=build /abs/bin/ /b2/\nCOPY --from=build /tlink /b3\nCOPY --from=build /rel/current /b4\nCOPY --from=build /abs/bin/tl /b5\n` },
  { name: "add-tar-with-chown-into-existing", tars: { "t.tar": { files: { "etc/kb.conf": "conf\n", "opt/kb/bin/x": "x\n" } } }, dockerfile: `FROM BASE\nRUN mkdir -p /opt/kb && chmod 0700 /opt/kb\nADD --chown=1000:1000 t.tar /\nADD --chown=1000:1000 t.tar /sub/\n` },
  // Docker leaves no_new_privs off in a build step, so a setuid program works for USER nobody (sudo in dev images).
  { name: "run-no-new-privs-off", matrix: true, singleIdFails: "USER nobody needs a second id", dockerfile: `FROM BASE\nRUN grep '^NoNewPrivs' /proc/self/status > /nnp-root\nUSER nobody\nRUN grep '^NoNewPrivs' /proc/self/status > /tmp/nnp-nobody\n` },
  // The RUN's host name is BuildKit's; /etc/hosts is bound read-only while /etc/hostname is the image's own file.
  { name: "run-hostname-and-etc-files", matrix: true, dockerfile: `FROM BASE\nRUN hostname > /seen-name && echo myhost > /etc/hostname && cat /etc/hostname > /seen-hostname\nRUN (echo '10.0.0.1 extra' >> /etc/hosts) 2>/dev/null; echo rc=$? > /hosts-rc; cat /etc/hosts > /seen-hosts\n` },
  // BuildKit's automatic platform ARGs: empty until declared, then the target's and the builder's platform.
  { name: "automatic-platform-args", dockerfile: `FROM BASE\nRUN echo "[$TARGETARCH]" > /before\nARG TARGETPLATFORM\nARG TARGETOS\nARG TARGETARCH\nARG TARGETVARIANT\nARG BUILDPLATFORM\nARG BUILDOS\nARG BUILDARCH\nRUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM $BUILDOS $BUILDARCH" > /platform\nLABEL arch=$TARGETARCH\n` },
  // Names a ustar header cannot hold (UTF-8, over 100 bytes) and spaces, through COPY's JSON form and a RUN.
  { name: "copy-unicode-long-and-spaced-names", files: { "naïve café.txt": "utf8\n", "日本/テスト.txt": "jp\n", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/ffffffffffffffffffffffffffffffffffffffff.txt": "long\n", "with space/a b.txt": "sp\n" }, dockerfile: `FROM BASE\nCOPY ["naïve café.txt", "with space/", "/names/"]\nCOPY 日本 /names/日本/\nCOPY dddd* /names/\nRUN ls /names > /listing && touch "/names/ünï côdé from run"\n` },
  { name: "run-deletes-and-recreates", dockerfile: `FROM BASE\nRUN rm -rf /home/app && mkdir -p /home/app/new && rm /etc/group && echo "root:x:0:" > /etc/group\n` },
  { name: "run-chmod-chown-tree", matrix: true, singleIdFails: "chown -R 1000:1000 needs uid 1000 in the namespace", dockerfile: `FROM BASE\nRUN mkdir -p /t/a/b && touch /t/a/b/f && chown -R 1000:1000 /t && chmod -R go-rwx /t/a && chmod 1777 /t\n` },
  { name: "run-setuid-and-special-modes", dockerfile: `FROM BASE\nRUN cp /bin/busybox /usr/local/su-copy 2>/dev/null || (mkdir -p /usr/local && cp /bin/busybox /usr/local/su-copy); chmod 4755 /usr/local/su-copy && chmod 2755 /tmp && mkfifo /fifo\n` },
  { name: "multi-stage-chain-with-run", files, dockerfile: `FROM BASE AS a\nRUN echo a > /a\nFROM a AS b\nCOPY b.txt /b\nRUN cat /a /b > /ab\nFROM BASE\nCOPY --from=b /ab /final/ab\nCOPY --from=a /a /final/\n` },
  { name: "expose-volume-after-run", dockerfile: `FROM BASE\nRUN mkdir -p /data && echo seed > /data/seed\nVOLUME /data\nEXPOSE 8080/tcp 8081/udp\nSTOPSIGNAL SIGQUIT\n` },
  { name: "dockerignore-dockerfile-and-dirs", files: { ...files, ".dockerignore": "Dockerfile\n.dockerignore\ndir/sub\n*.sh\n" }, dockerfile: `FROM BASE\nCOPY . /ctx/\n` },
  // A directory copied into one the stage has keeps that one's owner and mode (fsutil's copier leaves an existing
  // target's metadata alone; its subdirectories take the source's): `COPY . .` into a user's home stays the user's.
  { name: "copy-dir-into-existing-keeps-its-owner", matrix: true, singleIdFails: "chown to 1000 and 5 needs more ids", files, dockerfile: `FROM BASE\nRUN mkdir -p /home/app /t/sub && chown 1000:1000 /home/app && chmod 750 /home/app && chown 5:6 /t /t/sub && chmod 700 /t && chmod 711 /t/sub\nUSER 1000\nWORKDIR /home/app\nCOPY . .\nCOPY dir/ ./dir2/\nUSER root\nCOPY dir/ /t/\nCOPY --chown=7:8 dir /t\nCOPY dir dir /u/\n` },
  // Files sharing an inode become hard links within one source (a directory), not across sources or wildcard
  // matches: BuildKit copies each with a copier of its own.
  // A bind of a file mounts over an empty file stub, which BuildKit removes after the RUN (its missing parents stay,
  // as a directory target does); kb left a 0755 directory in the file's place.
  { name: "run-mount-bind-a-file", matrix: true, layerEntries: true, files: { "a.txt": "a\n", "dir/b": "b\n" }, dockerfile: `FROM BASE\nWORKDIR /w\nRUN --mount=type=bind,source=a.txt,target=a.txt cat a.txt > /seen\nRUN --mount=type=bind,source=a.txt,target=/new/dir/f --mount=type=bind,source=dir,target=/new/d2 cat /new/dir/f /new/d2/b > /seen2\n` },
  // A RUN that changes nothing it touches (no-op chmod -R / chown -R: copy-ups) leaves those files out of its layer, as
  // BuildKit's differ does; the one real change and its parent directory are kept.
  { name: "run-noop-chmod-chown-left-out", matrix: true, layerEntries: true, dockerfile: `FROM BASE\nRUN chmod -R a+rX /bin /home && chown -R 0:0 /home /usr && chmod 600 /etc/group\n` },
  // A cache mount with from= starts as a copy of that stage's source (BuildKit: "a base of the cache mount"); kb
  // mounted an empty cache before.
  { name: "run-mount-cache-from-stage", matrix: true, dockerfile: `FROM BASE AS seed\nRUN mkdir -p /seed/sub && echo seeded > /seed/sub/s\nFROM BASE\nRUN --mount=type=cache,target=/c,from=seed,source=/seed cat /c/sub/s > /got && ls /c > /listing\n` },
  // The directories --chown makes on the way, the destination included, are each listed once in the layer.
  { name: "copy-chown-into-new-nested-dir", layerEntries: true, files, dockerfile: `FROM BASE\nCOPY --chown=3:4 a.txt /new/deep/\nCOPY --chown=5:6 a.txt b.txt /two/levels/\n` },
  // Cache mounts of one target with and without uid/gid/mode are two caches (BuildKit keys a cache by id and the base
  // it starts from); kb shared one, so the second RUN saw the first's 0750 1000:1001 directory and its files.
  { name: "run-mount-cache-options-are-part-of-its-identity", dockerfile: `FROM BASE\nRUN --mount=type=cache,target=/c,uid=1000,gid=1001,mode=0750 stat -c '%a %u %g' /c > /c1 && touch /c/marker\nRUN --mount=type=cache,target=/c stat -c '%a %u %g' /c > /c2 && ls -A /c > /c2-list\nRUN --mount=type=cache,target=/c,uid=1000,gid=1001,mode=0750 ls -A /c > /c3-list\n` },
  // A wildcard that matches nothing is no error and makes no destination directory (AllowEmptyWildcard).
  { name: "copy-wildcard-matching-nothing", files, dockerfile: `FROM BASE\nCOPY *.nomatch /x/\nCOPY --chown=1:1 *.nomatch /p/q/\nCOPY *.nomatch a.txt /y/\n` },
  // ADD unpacks a local file only when it is a tar once decompressed (BuildKit's isArchivePath): bzip2, xz and a
  // tar without an extension are unpacked; a gzipped text file is copied as it is.
  { name: "add-archive-kinds", layerEntries: true, gzipFiles: { "notes.txt.gz": "only gzip, no tar\n", "fake.tar.gz": "not a tar either\n" }, tars: { "t.tar.bz2": { files: { "d/f": "bz\n" }, flags: ["-j"] }, "t.tar.xz": { files: { "d/f": "xz\n" }, flags: ["-J"] }, "t.noext": { files: { "d/f": "plain\n" } } }, dockerfile: `FROM BASE\nADD t.tar.bz2 /bz/\nADD t.tar.xz /xz/\nADD t.noext /noext/\nADD notes.txt.gz fake.tar.gz /gz/\n` },
  // --chmod sets what is copied, not the destination directory made for it (0755, BuildKit's MkdirAll).
  { name: "copy-chmod-leaves-made-destination", files, dockerfile: `FROM BASE\nCOPY --chmod=0750 dir/ /x/\nCOPY --chmod=0700 a.txt b.txt /y/\nCOPY --chmod=0751 dir /z/deep/\n` },
  { name: "copy-hardlinks-within-one-source", layerEntries: true, files: { "dir/a": "same\n", "dir2/x": "x\n" }, hardlinks: { "dir/b": "dir/a", "dir2/c": "dir/a" }, dockerfile: `FROM BASE\nCOPY dir/ /d/\nCOPY dir/a dir/b /e/\nCOPY dir/* /w/\nCOPY dir dir2 /z/\n` },
  // --chown and WORKDIR under USER own as BuildKit's WithUser + readUser: an empty part is 0, a numeric user is uid:uid
  // (not its passwd gid), an unknown user is 0:0 and an unknown group keeps the gid. kb failed on the unknown names
  // and on "1234:" / ":55", and gave WORKDIR under a numeric USER the passwd gid.
  { name: "chown-and-workdir-owners-as-buildkit", layerEntries: true, files, dockerfile: `FROM BASE\nRUN echo 'u:x:1500:1600::/:/bin/sh' >> /etc/passwd\nCOPY --chown=1234: a.txt /y/\nCOPY --chown=:55 a.txt /z/\nCOPY --chown=nosuch a.txt /a/\nCOPY --chown=nosuch:nosuch a.txt /b/\nCOPY --chown=1234:nosuch a.txt /c/\nUSER 1500\nWORKDIR /w1\nUSER u\nWORKDIR /w2\nUSER 1500:nosuch\nWORKDIR /w3\nUSER nosuch\nWORKDIR /w4\nUSER root\n` },
  // A RUN on a stage without /dev, /proc, /sys or /etc (FROM scratch) leaves those mount points in its layer, 0755
  // root, as runc makes them (moby/buildkit#3455, #6686); the /etc/hosts and /etc/resolv.conf stubs are removed.
  { name: "run-on-scratch-leaves-mount-points", layerEntries: true, dockerfile: `FROM BASE AS b\nFROM scratch\nCOPY --from=b /bin/busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir /made"]\n` },
  // A COPY or WORKDIR layer lists the directories the stage has above what it adds, with their mode and owner
  // (BuildKit's differ lists every parent of a change): `COPY a.txt /etc/` is etc/ and etc/a.txt, /tmp keeps 1777.
  // kb listed only what it made.
  { name: "copy-and-workdir-list-existing-parents", layerEntries: true, files, dockerfile: `FROM BASE\nRUN mkdir -p /srv/app && chown 7:8 /srv/app && chmod 750 /srv/app\nCOPY a.txt /etc/\nCOPY a.txt /usr/local/bin/x\nCOPY dir /tmp/d\nCOPY a.txt /etc/group\nWORKDIR /srv/app/sub/deeper\nWORKDIR /srv/app\nCOPY --chown=3:4 dir ./copied/\n` },
];
