import { beforeAll, describe, expect, test } from "bun:test";
import { isKbError } from "../../src/errors.ts";
import { hostPlatform, parseReference } from "../../src/image/index.ts";
import { createRegistryClient, fetchManifest, pushImage, resolveImage, resolveIndex, staticCredentials } from "../../src/registry/index.ts";
import { pushBusyboxIndex } from "../kit/base-images.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { clientFor, syntheticImage } from "./_helpers.ts";

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("Basic auth over TLS (tls-basic registry)", () => {
  const reg = useRegistryWithBusybox({ flavour: "tls-basic" });

  test("ping, pull and push work with the generated CA via caCerts", async () => {
    const client = clientFor(reg);
    await client.ping(reg.host);
    const img = await resolveImage(client, parseReference(`${reg.host}/library/busybox`));
    const r = await pushImage(client, [parseReference(`${reg.host}/other/bb:1`)], img);
    expect(r.digest).toBe(await img.digest());
  });

  test("no credentials gives REGISTRY_UNAUTHORIZED with a kb login hint, and no secret in the message", async () => {
    const anon = createRegistryClient({ caCerts: { [reg.host]: reg.caFile! }, auth: staticCredentials({}), env: {} });
    const e = await rejection(fetchManifest(anon, parseReference(`${reg.host}/library/busybox`)));
    expect(isKbError(e, "REGISTRY_UNAUTHORIZED")).toBe(true);
    expect((e as { hint?: string }).hint).toContain(`kb login ${reg.host}`);
    expect(e.message).toContain("401");
    const wrong = createRegistryClient({ caCerts: { [reg.host]: reg.caFile! }, auth: staticCredentials({ [reg.host]: { username: "kbtest", password: "wrong-pass-123" } }), env: {} });
    const e2 = await rejection(wrong.ping(reg.host));
    expect(isKbError(e2, "REGISTRY_UNAUTHORIZED")).toBe(true);
    expect(e2.message).not.toContain("wrong-pass-123");
  });

  test("without the CA, TLS fails with a clear hint", async () => {
    const c = createRegistryClient({ auth: staticCredentials({}), env: {}, retries: 0 });
    const e = await rejection(c.ping(reg.host));
    expect(isKbError(e, "REGISTRY")).toBe(true);
    expect((e as { hint?: string }).hint).toContain("CA");
    const viaEnv = createRegistryClient({ auth: staticCredentials({ [reg.host]: { username: reg.username, password: reg.password } }), env: { SSL_CERT_FILE: reg.caFile } });
    await viaEnv.ping(reg.host);
  });
});

describe("token auth (token registry + test issuer)", () => {
  const reg = useRegistryWithBusybox({ flavour: "token" });
  beforeAll(() => pushBusyboxIndex(reg));

  test("pull and push fetch a token per scope, and a new scope gets a new token", async () => {
    const client = clientFor(reg);
    const before = reg.issuer!.requests.length;
    const img = await resolveImage(client, parseReference(`${reg.host}/library/busybox`));
    await img.rawConfig();
    const afterPull = reg.issuer!.requests.slice(before);
    expect(afterPull.some((r) => r.scopes.includes("repository:library/busybox:pull"))).toBe(true);
    await pushImage(client, [parseReference(`${reg.host}/team/app:1`)], img);
    const all = reg.issuer!.requests.slice(before).flatMap((r) => r.scopes);
    expect(all).toContain("repository:team/app:pull,push");
    expect(all).toContain("repository:library/busybox:pull"); // the mount's source scope
    // cached: a second pull asks for no new token
    const n = reg.issuer!.requests.length;
    await fetchManifest(client, parseReference(`${reg.host}/library/busybox`));
    expect(reg.issuer!.requests.length).toBe(n);
  });

  test("anonymous pull is refused with REGISTRY_UNAUTHORIZED", async () => {
    const anon = createRegistryClient({ auth: staticCredentials({}), env: {} });
    const e = await rejection(fetchManifest(anon, parseReference(`${reg.host}/library/busybox`)));
    expect(isKbError(e, "REGISTRY_UNAUTHORIZED")).toBe(true);
  });

  test("resolveImage() picks the platform from an index; a missing one lists what exists", async () => {
    const client = clientFor(reg);
    const ref = parseReference(`${reg.host}/library/busybox-multi`);
    const idx = await resolveIndex(client, ref);
    expect(idx.index?.manifests.length).toBe(2);
    const arm = await resolveImage(client, ref, { os: "linux", architecture: "arm64", variant: "v8" });
    expect((await arm.config()).architecture).toBe("arm64");
    const amd = await resolveImage(client, ref, { os: "linux", architecture: "x86_64" });
    expect((await amd.config()).architecture).toBe("amd64");
    const e = await rejection(resolveImage(client, ref, { os: "linux", architecture: "s390x" }));
    expect(isKbError(e, "PLATFORM_NOT_FOUND")).toBe(true);
    expect(e.message).toContain('"linux/amd64", "linux/arm64"');
    expect(hostPlatform().os).toBe("linux");
  });

  test("an aborted streamed push leaves nothing half-visible and a new push succeeds", async () => {
    const client = clientFor(reg);
    const ref = parseReference(`${reg.host}/big/img:1`);
    const ac = new AbortController();
    const slow = syntheticImage(6 << 20, 7, 5);
    setTimeout(() => ac.abort(new Error("stopped by test")), 150);
    const e = await rejection(pushImage(client, [ref], slow, { signal: ac.signal }));
    expect(e.message).toContain("stopped by test");
    const missing = await rejection(fetchManifest(client, ref));
    expect(isKbError(missing, "REGISTRY_NOT_FOUND")).toBe(true);
    const img = syntheticImage(6 << 20, 7);
    const r = await pushImage(client, [ref], img);
    expect(r.digest).toBe(await img.digest());
    const back = await resolveImage(client, ref);
    const layer = (await back.layers())[0];
    let n = 0;
    for await (const c of await layer.compressed()) n += c.length;
    expect(n).toBe(6 << 20);
    expect(reg.logs()).toMatch(/PATCH \/v2\/big\/img\/blobs\/uploads\//);
  });
});
