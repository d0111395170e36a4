// Differential cases that once showed kb bugs (fixed: COPY --from owners, --chown parents, the destination's
// mode, implied directories in RUN lower trees); kept as regular cases so they stay fixed.

import { COPY_CASES, type DiffCase } from "./_differential-cases.ts";

const ctxFiles = COPY_CASES[0]!.files!;

export const KB_BUG_CASES: DiffCase[] = [
  {
    name: "copy-from-keeps-owner",
    matrix: true,
    files: ctxFiles,
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
    dockerfile: `FROM BASE
COPY --chown=app:app a.txt /o/names
`,
  },
  {
    name: "copy-context-root-mode",
    files: ctxFiles,
    contextMode: 0o700,
    dockerfile: `FROM BASE
COPY . /ctx/
`,
  },
  {
    name: "run-deletes-in-base-dir-after-copy",
    files: { f: "x\n" },
    dockerfile: `FROM BASE
COPY f /tmp/
RUN rm /tmp/f
`,
  },
];
