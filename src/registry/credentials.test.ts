import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isKbError } from "../errors.ts";
import { dockerConfigCredentials, envCredentials, kbLogin, normalizeAuthKey } from "./credentials.ts";
import { redact } from "./redact.ts";

const dir = mkdtempSync(path.join(tmpdir(), "kb-creds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfg = (name: string, body: unknown) => {
  const f = path.join(dir, name);
  writeFileSync(f, typeof body === "string" ? body : JSON.stringify(body));
  return f;
};
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("dockerConfigCredentials()", () => {
  test("reads auth, username/password, identitytoken and Docker Hub key aliases", async () => {
    const f = cfg("a.json", {
      auths: {
        "https://index.docker.io/v1/": { auth: b64("hub:pw:with:colons") },
        "https://r.io:5000/v2/": { username: "u", password: "p" },
        "t.io": { identitytoken: "refresh-xyz" },
      },
    });
    const src = dockerConfigCredentials([f]);
    expect(await src.get("docker.io")).toEqual({ username: "hub", password: "pw:with:colons" });
    expect(await src.get("r.io:5000")).toEqual({ username: "u", password: "p" });
    expect((await src.get("t.io"))?.identityToken).toBe("refresh-xyz");
    expect(await src.get("none.io")).toBeUndefined();
  });
  test("runs credHelpers and credsStore through docker-credential-<name> on PATH", async () => {
    const bin = path.join(dir, "bin");
    require("node:fs").mkdirSync(bin);
    const helper = path.join(bin, "docker-credential-test");
    writeFileSync(helper, '#!/bin/sh\nread host\nif [ "$host" = "h.io" ]; then echo "{\\"ServerURL\\":\\"h.io\\",\\"Username\\":\\"hu\\",\\"Secret\\":\\"hs\\"}"; else echo "credentials not found in native keychain"; exit 1; fi\n');
    chmodSync(helper, 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      expect(await dockerConfigCredentials([cfg("h.json", { credHelpers: { "h.io": "test" } })]).get("h.io")).toEqual({ username: "hu", password: "hs" });
      const store = dockerConfigCredentials([cfg("s.json", { credsStore: "test" })]);
      expect(await store.get("h.io")).toEqual({ username: "hu", password: "hs" });
      expect(await store.get("other.io")).toBeUndefined();
    } finally {
      process.env.PATH = oldPath;
    }
  });
  for (const [name, body, why] of [
    ["bad1.json", "{nope", "invalid JSON"],
    ["bad2.json", "[]", "not a JSON object"],
    ["bad3.json", { auths: [] }, '"auths"'],
    ["bad4.json", { auths: { "x.io": { auth: b64("nocolon") } } }, "not base64"],
  ] as const)
    test(`rejects a malformed config.json (${why})`, async () => {
      let err: unknown;
      try {
        await dockerConfigCredentials([cfg(name, body)]).get("x.io");
      } catch (e) {
        err = e;
      }
      expect(isKbError(err, "CREDENTIALS")).toBe(true);
      expect((err as Error).message).toContain(why);
    });
});

describe("envCredentials() and kbLogin()", () => {
  test("KB_REGISTRY_AUTH is a JSON object keyed by host", async () => {
    expect(await envCredentials('{"r.io":{"username":"a","password":"b"}}').get("r.io")).toEqual({ username: "a", password: "b" });
    expect(() => envCredentials("r.io=a:b")).toThrow("not valid JSON");
  });
  test("kbLogin() writes 0600 and keeps other keys", async () => {
    const f = cfg("login.json", { auths: { "o.io": { auth: b64("o:p") } }, credHelpers: { "z.io": "zz" }, psFormat: "x" });
    kbLogin("docker.io", "me", "secret", f);
    const j = JSON.parse(readFileSync(f, "utf8"));
    expect(j.psFormat).toBe("x");
    expect(j.auths["o.io"]).toBeDefined();
    expect(j.auths["https://index.docker.io/v1/"].auth).toBe(b64("me:secret"));
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(await dockerConfigCredentials([f]).get("docker.io")).toEqual({ username: "me", password: "secret" });
    expect(normalizeAuthKey("https://index.docker.io/v1/")).toBe("docker.io");
  });
});

describe("redact()", () => {
  test("hides Authorization values, URL user-info, token query params, JSON secrets and known secrets", () => {
    const s = redact(
      'Authorization: Bearer abc.def.ghi GET https://u:pw@h.io/t?service=x&token=SECRET1&X-Amz-Signature=SIG {"password":"p1","auth":"dXM6cA=="} Basic dXNlcjpwYXNz mysecretvalue',
      ["mysecretvalue"],
    );
    for (const secret of ["abc.def.ghi", "pw@", "SECRET1", "SIG", "p1", "dXM6cA==", "dXNlcjpwYXNz", "mysecretvalue"]) expect(s).not.toContain(secret);
    expect(s).toContain("service=x");
    expect(s).toContain("https://***@h.io/t");
  });
});
