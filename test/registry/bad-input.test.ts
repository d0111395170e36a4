import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import { isKbError } from "../../src/errors.ts";
import { parseReference } from "../../src/image/index.ts";
import { createRegistryClient, fetchManifest, resolveImage, staticCredentials } from "../../src/registry/index.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";

// A fault-injecting proxy in front of the real registry: it rewrites chosen answers, passes the rest.
const reg = useRegistryWithBusybox();
let proxy: Server;
let proxyHost: string;
const OCI = "application/vnd.oci.image.manifest.v1+json";
const faults: Record<string, (res: import("node:http").ServerResponse) => void> = {
  "/v2/bad/json/manifests/latest": (r) => r.writeHead(200, { "content-type": OCI }).end("{not json"),
  "/v2/bad/type/manifests/latest": (r) => r.writeHead(200, { "content-type": "application/vnd.docker.distribution.manifest.v1+prettyjws" }).end('{"schemaVersion":1}'),
  "/v2/bad/big/manifests/latest": (r) => {
    r.writeHead(200, { "content-type": OCI });
    r.end(Buffer.alloc(4 * 1024 * 1024 + 10, 0x20));
  },
  "/v2/bad/flaky/manifests/latest": (r) => r.writeHead(503, { "retry-after": "0" }).end('{"errors":[{"code":"UNAVAILABLE","message":"later"}]}'),
};
let flakyCount = 0;

beforeAll(async () => {
  proxy = createServer(async (req, res) => {
    const url = req.url ?? "/";
    if (url === "/v2/bad/flaky/manifests/latest" && flakyCount++ >= 2) {
      const up = await fetch(`${reg.url}/v2/library/busybox/manifests/latest`, { headers: { accept: OCI } });
      res.writeHead(200, { "content-type": up.headers.get("content-type")! }).end(Buffer.from(await up.arrayBuffer()));
      return;
    }
    if (faults[url]) return faults[url](res);
    if (url.startsWith("/v2/bad/swap/manifests/sha256:")) {
      const doc = { schemaVersion: 2, mediaType: OCI, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"1".repeat(64)}`, size: 2 }, layers: [] };
      return res.writeHead(200, { "content-type": OCI }).end(JSON.stringify(doc));
    }
    const up = await fetch(`${reg.url}${url}`, { method: req.method, headers: { accept: String(req.headers.accept ?? "*/*") } });
    let body = Buffer.from(await up.arrayBuffer());
    if (url.includes("/blobs/") && body.length > 1000) body = url.includes("truncate") || proxyMode === "truncate" ? body.subarray(0, body.length - 100) : (body[500] ^= 1, body);
    const headers: Record<string, string> = {};
    up.headers.forEach((v, k) => (k !== "content-length" && k !== "transfer-encoding" ? (headers[k] = v) : 0));
    res.writeHead(up.status, headers).end(body);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
});
let proxyMode: "flip" | "truncate" = "flip";

const client = () => createRegistryClient({ auth: staticCredentials({}), env: {}, retryPolicy: { baseMs: 5, maxDelayMs: 20 } });

async function codeOf(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    if (!isKbError(e)) throw e;
    return [e.code, e.message];
  }
  throw new Error("expected a KbError");
}

async function drain(s: ReadableStream<Uint8Array>) {
  for await (const _ of s);
}

describe("registry answers kb must refuse (fault proxy in front of the real registry)", () => {
  test("invalid JSON manifest → MANIFEST_INVALID", async () => {
    const [code, msg] = await codeOf(fetchManifest(client(), parseReference(`${proxyHost}/bad/json`)));
    expect(code).toBe("MANIFEST_INVALID");
    expect(msg).toContain("invalid JSON");
  });
  test("unknown media type → MANIFEST_INVALID naming it", async () => {
    const [code, msg] = await codeOf(fetchManifest(client(), parseReference(`${proxyHost}/bad/type`)));
    expect(code).toBe("MANIFEST_INVALID");
    expect(msg).toContain("prettyjws");
  });
  test("manifest over 4 MiB → MANIFEST_INVALID", async () => {
    const [code, msg] = await codeOf(fetchManifest(client(), parseReference(`${proxyHost}/bad/big`)));
    expect(code).toBe("MANIFEST_INVALID");
    expect(msg).toContain("larger than");
  });
  test("wrong pinned manifest digest → BLOB_DIGEST_MISMATCH", async () => {
    const [code] = await codeOf(fetchManifest(client(), parseReference(`${proxyHost}/library/busybox@sha256:${"0".repeat(64)}`)));
    expect(["BLOB_DIGEST_MISMATCH", "REGISTRY_NOT_FOUND"]).toContain(code);
    const [code2, msg] = await codeOf(fetchManifest(client(), parseReference(`${proxyHost}/bad/swap@sha256:${"2".repeat(64)}`)));
    expect(code2).toBe("BLOB_DIGEST_MISMATCH");
    expect(msg).toContain("hashes to");
  });
  test("404 tag → REGISTRY_NOT_FOUND with the status and spec code", async () => {
    const [code, msg] = await codeOf(fetchManifest(client(), parseReference(`${reg.host}/library/busybox:nope`)));
    expect(code).toBe("REGISTRY_NOT_FOUND");
    expect(msg).toContain("404 MANIFEST_UNKNOWN");
    expect(msg).toStartWith(`Cannot pull manifest "${reg.host}/library/busybox:nope": GET http://${reg.host}/v2/`);
  });
  test("503 then success is retried (Retry-After honoured)", async () => {
    const m = await fetchManifest(client(), parseReference(`${proxyHost}/bad/flaky`));
    expect(m.mediaType).toBe(OCI);
    expect(flakyCount).toBe(3);
  });
  test("corrupted layer bytes → BLOB_DIGEST_MISMATCH at the end of the stream", async () => {
    proxyMode = "flip";
    const img = await resolveImage(client(), parseReference(`${proxyHost}/library/busybox`));
    const layer = (await img.layers())[0];
    const [code] = await codeOf(layer.compressed().then(drain));
    expect(code).toBe("BLOB_DIGEST_MISMATCH");
  });
  test("truncated layer → BLOB_SIZE_MISMATCH", async () => {
    proxyMode = "truncate";
    const img = await resolveImage(client(), parseReference(`${proxyHost}/library/busybox`));
    const [code] = await codeOf((await img.layers())[0].compressed().then(drain));
    expect(code).toBe("BLOB_SIZE_MISMATCH");
  });
});
