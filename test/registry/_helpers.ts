// Shared helpers of the registry tests: a client configured for a test registry.
import { createRegistryClient, staticCredentials, type RegistryClientOptions } from "../../src/registry/index.ts";
import type { TestRegistry } from "../kit/registry-server.ts";

/** A client that trusts the registry's CA and knows its credentials. */
export function clientFor(reg: TestRegistry, extra: RegistryClientOptions = {}) {
  return createRegistryClient({
    caCerts: reg.caFile ? { [reg.host]: reg.caFile } : {},
    auth: staticCredentials(reg.username ? { [reg.host]: { username: reg.username, password: reg.password } } : {}),
    retryPolicy: { baseMs: 20, maxDelayMs: 200 },
    env: {},
    ...extra,
  });
}

import { createHash } from "node:crypto";
import type { Image, Layer } from "../../src/image/index.ts";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}` as `sha256:${string}`;

/** A one-layer image of `size` pseudo-random bytes (fixed seed), streamed in 64 KiB chunks, never held whole. */
export function syntheticImage(size: number, seed = 1, chunkDelayMs = 0): Image {
  const chunk = (i: number) => {
    const b = new Uint8Array(Math.min(65536, size - i * 65536));
    let x = (seed * 2654435761 + i) >>> 0;
    for (let j = 0; j < b.length; j++) b[j] = (x = (x * 1664525 + 1013904223) >>> 0) >>> 24;
    return b;
  };
  const stream = () => {
    let i = 0;
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i * 65536 >= size) return c.close();
        if (chunkDelayMs) await new Promise((r) => setTimeout(r, chunkDelayMs));
        c.enqueue(chunk(i++));
      },
    });
  };
  const h = createHash("sha256");
  for (let i = 0; i * 65536 < size; i++) h.update(chunk(i));
  const digest = `sha256:${h.digest("hex")}` as `sha256:${string}`;
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [digest] } }));
  const mt = "application/vnd.oci.image.layer.v1.tar";
  const manifest = { schemaVersion: 2 as const, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length }, layers: [{ mediaType: mt, digest, size }] };
  const raw = new TextEncoder().encode(JSON.stringify(manifest));
  const layer: Layer = {
    digest: async () => digest, diffId: async () => digest, size: async () => size, mediaType: mt,
    compressed: async () => stream(), uncompressed: async () => stream(), descriptor: async () => manifest.layers[0],
  };
  return {
    rawManifest: async () => raw, manifest: async () => manifest, digest: async () => sha(raw), mediaType: async () => manifest.mediaType,
    rawConfig: async () => config, config: async () => JSON.parse(new TextDecoder().decode(config)), layers: async () => [layer], layerByDigest: async () => layer,
  };
}
