// A path placed in a stage as Docker places it: every symlink on the way followed inside the image's root
// (runc's securejoin for mount targets, continuity's fs.RootPath for COPY and WORKDIR), never on the host.

import { KbError } from "../../errors.ts";
import type { StageFs } from "./layer-index.ts";

/** Symlinks followed for one path before giving up (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * An absolute path with every symlink on its way resolved in the stage, the last part included: an absolute link
 * starts again at the image's root, `..` never climbs above it, and what does not exist yet is kept as written
 * (it is created there); a file on the way is refused. `/x/ctx` with `/x -> /y` is `/y/ctx`; `/bin/app` on Debian (`/bin -> usr/bin`) is
 * `/usr/bin/app`. Entries and link targets come from the stage's layer indexes.
 * @example await resolveInStage(fs, "/var/run/app") // "/run/app" on Debian
 */
export async function resolveInStage(fs: Pick<StageFs, "visible">, path: string): Promise<string> {
  const todo = path.split("/");
  const cur: string[] = [];
  let known = 0; // cur[0, known) exist in the stage; what follows does not
  let hops = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "" || name === ".") continue;
    if (name === "..") {
      cur.pop();
      known = Math.min(known, cur.length);
      continue;
    }
    cur.push(name);
    if (known < cur.length - 1) continue; // below something missing: missing too
    const seen = await fs.visible(cur.join("/"));
    if (!seen) continue;
    known = cur.length;
    if (seen.kind === "dir") continue;
    const link = seen.link;
    if (link === undefined) {
      // A file (or device, socket…): nothing can be placed below it. Docker: "mkdir …: not a directory".
      if (todo.some((n) => n !== "" && n !== ".")) {
        throw new KbError("BUILD", `Cannot place "${path}" in the image: "/${cur.join("/")}" is a file there, not a directory`, {
          hint: "choose a path below a directory, or remove that file first (RUN rm)",
        });
      }
      continue;
    }
    if (++hops > MAX_LINKS) {
      throw new KbError("BUILD", `Cannot place "${path}" in the image: more than ${MAX_LINKS} symbolic links on the way`, {
        hint: "a symlink of the image points back at itself; use a path without it",
      });
    }
    cur.pop();
    known = Math.min(known, cur.length);
    if (link.startsWith("/")) (cur.length = 0), (known = 0);
    todo.unshift(...link.split("/"));
  }
  return `/${cur.join("/")}`;
}

/** Resolves each distinct path once; the map gives each path as written its place in the stage. */
export async function resolveAllInStage(fs: Pick<StageFs, "visible">, paths: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of paths) if (!out.has(p)) out.set(p, await resolveInStage(fs, p));
  return out;
}
