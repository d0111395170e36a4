// The registry as an ImageSink (push under fixed references) and an ImageSource (pull by reference).

import { imageEntries } from "../image/assemble-index.ts";
import { parseReference, type Reference } from "../image/reference.ts";
import type { ImageSink, ImageSource } from "../image/image.ts";
import type { RegistryClient } from "./client.ts";
import { pushImage, pushIndex, type PushOptions } from "./push.ts";
import { readRemote } from "./remote-image.ts";

/**
 * A sink that pushes to every reference in `refs` (blobs once per repository; an index's images by digest first).
 * The write options' tags are not used: the references are the tags.
 * @example await registrySink(client, [parseReference("r/app:1")]).write(img, { tags: [] })
 */
export function registrySink(client: RegistryClient, refs: Reference[], opts: PushOptions = {}): ImageSink {
  return {
    async write(img, o) {
      const r = await pushImage(client, refs, img, { ...opts, signal: o.signal ?? opts.signal });
      return { mediaType: await img.mediaType(), digest: r.digest, size: r.size };
    },
    async writeIndex(index, o) {
      const images = await Promise.all((await imageEntries(index)).map((d) => index.image(d.digest)));
      const r = await pushIndex(client, refs, index, images, { ...opts, signal: o.signal ?? opts.signal });
      return { mediaType: await index.mediaType(), digest: r.digest, size: r.size };
    },
  };
}

/** A source that reads a reference ("registry/repo:tag" or "@sha256:…"): an Image, or an ImageIndex. */
export function registrySource(client: RegistryClient): ImageSource {
  return { read: (ref, o) => readRemote(client, parseReference(ref ?? ""), o?.signal) };
}
