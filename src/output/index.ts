// Image outputs and sources, one file per format: OCI layout, docker-archive (the registry is src/registry/).

import { dockerArchive } from "./docker-archive.ts";
import { ociLayout } from "./oci-layout.ts";
import type { FileFormat } from "./output.ts";

export type { FileFormat, ImageSink, ImageSource, SinkWriteOptions, SourceReadOptions } from "./output.ts";
export { layoutBlobSource, ociLayout, readOciLayout, REF_NAME, writeOciIndex, writeOciLayout, type WriteOciLayoutOptions } from "./oci-layout.ts";
export { dockerArchive, readDockerArchive, writeDockerArchive, type DockerArchiveEntry, type ReadDockerArchiveOptions, type WriteDockerArchiveOptions } from "./docker-archive.ts";
export { selectPlatform, toPlatform } from "./_platform.ts";

/** The file formats by name (an explicit map, no self-registration); the registry sink lives in src/registry/. */
export const fileFormats: Record<"oci" | "docker", FileFormat> = { oci: ociLayout, docker: dockerArchive };
