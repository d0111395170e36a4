// A file format (OCI layout, docker-archive): its names, its sink and source (the contract is in src/image/image.ts).

import type { ImageSink, ImageSource } from "../image/image.ts";
import type { Reference } from "../image/reference.ts";

/** One file format: its names in messages and flags, and a sink and a source for a path. */
export interface FileFormat {
  /** In messages: "OCI layout", "docker archive". */
  readonly title: string;
  /** The location prefix `kb push/pull/inspect` read it by, skopeo's transport name: "oci" for `oci:DIR[:TAG]`. */
  readonly transport: string;
  /** Whether the TAG after the path is a reference ("repo:tag", so the path ends at the first colon that names a file) or a plain tag (last colon). */
  readonly tagIsReference: boolean;
  /** The build flag that writes it. */
  readonly flag: string;
  /** What `dest=` names, in hints: "DIR", "FILE.tar". */
  readonly destHint: string;
  /** What it holds, when it cannot hold an index (no `writeIndex`): "one image per tag". */
  readonly holds?: string;
  sink(dest: string): ImageSink;
  source(dest: string): ImageSource;
  /** The tags a build records in it: the output's own tag, else taken from the build's references. */
  buildTags(tag: string | undefined, refs: Reference[]): string[];
}
