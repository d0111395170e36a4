// Image outputs and sources, one file per format: OCI layout, docker-archive (the registry is src/registry/).

export type { FileFormat, ImageSink, ImageSource, SinkWriteOptions, SourceReadOptions } from "./output.ts";
export { layoutBlobSource, ociLayout, readOciLayout, REF_NAME, writeOciLayout, type WriteOciLayoutOptions } from "./oci-layout.ts";
export { hostPlatform, selectPlatform, toPlatform } from "./_platform.ts";
