// Reads an image's compressed size (config + layers) from its manifest in a plain-HTTP registry.

const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Size in MB of `ref` ("HOST/REPO:TAG") as the registry serves it; NaN when the manifest cannot be read. */
export async function imageSizeMB(ref: string): Promise<number> {
  const slash = ref.indexOf("/");
  const colon = ref.lastIndexOf(":");
  const url = `http://${ref.slice(0, slash)}/v2/${ref.slice(slash + 1, colon)}/manifests/${ref.slice(colon + 1)}`;
  const res = await fetch(url, { headers: { accept: ACCEPT } });
  if (!res.ok) return NaN;
  const m = (await res.json()) as { config?: { size: number }; layers?: { size: number }[] };
  return ((m.config?.size ?? 0) + (m.layers ?? []).reduce((a, l) => a + l.size, 0)) / 1e6;
}
