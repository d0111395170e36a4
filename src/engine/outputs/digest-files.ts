// The digest files jobs read after a build: Docker's --iidfile, and Kaniko's --digest-file, --image-name-with-digest-file and
// --image-name-tag-with-digest-file, in Kaniko's exact format (executor/push.go: one "NAME[:TAG]@DIGEST\n"
// line per destination; a destination without a tag gets ":latest", as go-containerregistry's name.NewTag).

import { writeFile } from "node:fs/promises";
import type { Reference } from "../../image/reference.ts";
import type { BuildOptions } from "../core/options.ts";

/** Lines of the image-name files: `registry/repository@digest`, or with `:tag` when `withTag`. */
export function imageNameLines(refs: Reference[], digest: string, withTag: boolean): string {
  return refs.map((r) => `${r.registry}/${r.repository}${withTag ? `:${r.tag ?? "latest"}` : ""}@${digest}\n`).join("");
}

/**
 * Writes whichever digest files the options ask for. `imageId` is what `docker build --iidfile` writes: the config
 * digest of a single-platform image (Docker's image ID), the index digest of a multi-platform one (buildx).
 */
export async function writeDigestFiles(opts: BuildOptions, refs: Reference[], digest: string, imageId: string): Promise<void> {
  if (opts.iidFile) await writeFile(opts.iidFile, imageId);
  if (opts.digestFile) await writeFile(opts.digestFile, digest);
  if (opts.imageNameWithDigestFile) await writeFile(opts.imageNameWithDigestFile, imageNameLines(refs, digest, false));
  if (opts.imageNameTagWithDigestFile) await writeFile(opts.imageNameTagWithDigestFile, imageNameLines(refs, digest, true));
}
