// Registry error classification (issue 13, item 8): the hint matches what happened. A registry named with
// --insecure-registry whose /v2/ answers 500 over plain http is an HTTP failure, not a TLS one.

import { expect, test } from "bun:test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { kb, tempDir, cleanup } from "../kit/kb.ts";
import { startRegistry } from "../kit/registry-server.ts";

test("/v2/ answering 500 on an --insecure-registry host says 500, not TLS", async () => {
  const server = createServer((req, res) => {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: "database is down" }] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const cache = tempDir("kb-classify-");
  try {
    for (const args of [["pull", "--cache-dir", cache, "--insecure-registry", host, `${host}/x/y:1`], ["inspect", "--insecure-registry", host, `${host}/x/y:1`]]) {
      const r = await kb(args);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`error[REGISTRY]: Cannot reach registry "${host}": GET http://${host}/v2/ returned 500 UNKNOWN "database is down"`);
      expect(r.err).toContain("temporary failure");
      expect(r.err).not.toMatch(/TLS|certificate|--insecure-registry/i);
    }
  } finally {
    server.close();
    cleanup(cache);
  }
});

test("a real TLS failure (a registry whose CA kb does not know) still gets the certificate hint", async () => {
  const reg = await startRegistry("tls-basic");
  try {
    const r = await kb(["inspect", `${reg.host}/x/y:1`], { SSL_CERT_FILE: undefined });
    expect(r.code).toBe(1);
    expect(r.err).toContain("--registry-certificate");
    expect(r.err).not.toContain("returned 500");
  } finally {
    await reg.stop();
  }
});

test("one 503 on /v2/ is retried: the next answer decides", async () => {
  let probes = 0;
  const server = createServer((req, res) => {
    if (req.url === "/v2/" && probes++ === 0) {
      res.writeHead(503).end();
      return;
    }
    if (req.url === "/v2/") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const r = await kb(["inspect", "--insecure-registry", host, `${host}/x/y:1`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[REGISTRY_NOT_FOUND]");
    expect(probes).toBe(2);
  } finally {
    server.close();
  }
});
