// The build context of a differential case: its files and the tars it names, made in a fresh temp directory.

import { chmodSync, linkSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { makeContext, must, tempDir } from "../kit/kb.ts";
import type { DiffCase } from "./_differential-cases.ts";

/** Writes the case's context ("BASE" in the Dockerfile replaced by `base`) and returns its directory. */
export function caseContext(c: DiffCase, dockerfile: string, base: string): string {
  const ctx = makeContext({ ...(c.files ?? {}), Dockerfile: dockerfile.replaceAll("BASE", base) });
  for (const [name, t] of Object.entries(c.tars ?? {})) {
    const stage = tempDir("kb-tar-");
    for (const [p, content] of Object.entries(t.files)) {
      mkdirSync(join(stage, p, ".."), { recursive: true });
      writeFileSync(join(stage, p), content);
    }
    must("tar", ["--sort=name", "--mtime=@0", ...(t.flags ?? []), "-C", stage, "-cf", join(ctx, name), ...(t.members ?? readdirSync(stage))]);
  }
  for (const [name, text] of Object.entries(c.gzipFiles ?? {})) writeFileSync(join(ctx, name), gzipSync(text));
  for (const [link, target] of Object.entries(c.hardlinks ?? {})) linkSync(join(ctx, target), join(ctx, link));
  chmodSync(ctx, c.contextMode ?? 0o755);
  return ctx;
}
