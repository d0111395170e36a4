// Image outputs and sources, one file per format: OCI layout, docker-archive (the registry is src/registry/).

import { dockerArchive } from "./docker-archive.ts";
import { ociLayout } from "./oci-layout.ts";
import type { FileFormat } from "./output.ts";

export type { FileFormat } from "./output.ts";
export { layoutBlobSource, ociLayout, readOciLayout, readOciLayoutEntry, REF_NAME, writeOciIndex, writeOciLayout, type WriteOciLayoutOptions } from "./oci-layout.ts";
export { dockerArchive, readDockerArchive, writeDockerArchive, type DockerArchiveEntry, type ReadDockerArchiveOptions, type WriteDockerArchiveOptions } from "./docker-archive.ts";

/**
 * The file formats a build writes, by output type (an explicit table, no self-registration). Adding a format is
 * its file in this folder (a FileFormat: sink without writeIndex if it cannot hold an index, and source), one line
 * in this table (then `--output type=NAME,dest=PATH` works), and, for a flag of its own, that flag in
 * src/cli/commands/build-flags.ts with one line in src/cli/commands/build-options.ts. The registry sink is
 * src/registry/sink.ts.
 */
export const fileFormats = { oci: ociLayout, docker: dockerArchive } satisfies Record<string, FileFormat>;

/** An output type with a file format. */
export type FileFormatName = keyof typeof fileFormats;

/** The file format of an output type ("oci", "docker"), or undefined for a type that is not a file (the registry). */
export function fileFormatOf(type: string): FileFormat | undefined {
  return Object.hasOwn(fileFormats, type) ? fileFormats[type as FileFormatName] : undefined;
}
