// The registry's spec error codes travel on the error as a typed list: callers test the code, never the message.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { isKbError } from "../../src/errors.ts";
import { sha256Digest } from "../../src/image/digest.ts";
import { hasRegistryCode, RegistryResponseError } from "../../src/registry/index.ts";
import { startRegistry, type TestRegistry } from "../kit/registry-server.ts";
import { clientFor } from "./_helpers.ts";

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry("http");
});
afterAll(() => reg?.stop());

test("a manifest naming a blob the registry lacks fails with the code MANIFEST_BLOB_UNKNOWN on the error", async () => {
  const config = new TextEncoder().encode('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", size: config.length, digest: sha256Digest(config) },
    layers: [],
  });
  const client = clientFor(reg);
  const err = await client
    .request({
      registry: reg.host, repository: "codes/app", method: "PUT", path: "/v2/codes/app/manifests/v1",
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }, body: new TextEncoder().encode(manifest),
      push: true, action: "push manifest", subject: `${reg.host}/codes/app:v1`, accept: [201],
    })
    .then(() => undefined, (e: unknown) => e);
  expect(isKbError(err, "MANIFEST_INVALID")).toBe(true);
  expect(err).toBeInstanceOf(RegistryResponseError);
  expect((err as RegistryResponseError).status).toBe(400);
  expect((err as RegistryResponseError).registryCodes).toContain("MANIFEST_BLOB_UNKNOWN");
  expect(hasRegistryCode(err, "MANIFEST_BLOB_UNKNOWN")).toBe(true);
  expect(hasRegistryCode(err, "MANIFEST_INVALID")).toBe(false);
  expect(hasRegistryCode(new Error("MANIFEST_BLOB_UNKNOWN"), "MANIFEST_BLOB_UNKNOWN")).toBe(false);
});
