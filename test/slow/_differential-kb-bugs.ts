// Differential cases that show confirmed kb bugs (each run as test.todo until src/ is fixed; see the report).

import { COPY_CASES, type DiffCase } from "./_differential-cases.ts";

const ctxFiles = COPY_CASES[0]!.files!;

export const KB_BUG_CASES: DiffCase[] = [
  {
    name: "copy-from-keeps-owner",
    files: ctxFiles,
    kbBug: "COPY --from=stage resets owners to 0:0; Docker (moby#38599, BuildKit) and buildah keep the source owner without --chown",
    dockerfile: `FROM BASE AS build
COPY --chown=1000:1000 a.txt /out/owned
FROM BASE
COPY --from=build /out/owned /owned-file
COPY --from=build /out /from-build
`,
  },
  {
    name: "copy-chown-creates-parent",
    files: ctxFiles,
    kbBug: "COPY --chown to /new/dir/file leaves the created parent /new root-owned (umoci default); Docker (BuildKit MkdirAll with the chown) and buildah make it 1000:1000",
    dockerfile: `FROM BASE
COPY --chown=app:app a.txt /o/names
`,
  },
  {
    name: "copy-context-root-mode",
    files: ctxFiles,
    contextMode: 0o700,
    kbBug: "COPY . /ctx/ from a 0700 context dir gives /ctx mode 0700; Docker and buildah create the destination 0755",
    dockerfile: `FROM BASE
COPY . /ctx/
`,
  },
  {
    name: "run-deletes-in-base-dir-after-copy",
    files: { f: "x\n" },
    kbBug: "COPY f /tmp/ then RUN rm /tmp/f leaves /tmp 0755 in the RUN layer; Docker and buildah keep the base's 1777",
    dockerfile: `FROM BASE
COPY f /tmp/
RUN rm /tmp/f
`,
  },
];
