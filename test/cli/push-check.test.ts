// The push check before a build, against real registries: down, no credentials, wrong credentials (TLS +
// htpasswd), a RUN still running when the check fails, and --skip-push-permission-check.

import { beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { spawnKb, waitNoProcesses } from "../kit/spawn-kb.ts";
import { join } from "node:path";
import { kb, makeContext, tempDir } from "../kit/kb.ts";
import { useRegistry, useRegistryWithBusybox } from "../kit/registry-fixture.ts";

// Real registries and subprocesses: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

const tls = useRegistry({ flavour: "tls-basic" });
const plain = useRegistryWithBusybox();
let cache: string;
beforeAll(() => {
  cache = tempDir("kb-cache-");
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A DOCKER_CONFIG folder whose config.json holds `user:pass` for `host`. */
function dockerConfig(host: string, user: string, pass: string): string {
  const dir = tempDir("kb-dockercfg-");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString("base64") } } }));
  return dir;
}

const scratchCtx = () => makeContext({ Dockerfile: "FROM scratch\nCOPY a /a\n", a: "a\n" });
const emptyHome = () => {
  const h = tempDir("kb-home-");
  mkdirSync(join(h, ".docker"));
  return h;
};

describe("push check with token auth (anonymous pull allowed, push needs a user)", () => {
  const tok = useRegistry({ flavour: "token", anonymousPull: true });

  test("an anonymous pull token is not enough: the check asks for push scope and says credentials are missing; with them it passes", async () => {
    const args = ["build", "--cache-dir", cache, "--registry-certificate", `${tok.host}=${tok.caFile}`, "-t", `${tok.host}/team/app:1`, scratchCtx()];
    const before = tok.issuer!.requests.length;
    const anon = await kb(args, { HOME: emptyHome(), DOCKER_CONFIG: undefined, KB_REGISTRY_AUTH: undefined });
    expect(anon.code).toBe(1);
    expect(anon.err).toContain(`credentials for "${tok.host}" are missing`);
    expect(tok.issuer!.requests.slice(before).flatMap((r) => r.scopes)).toContain("repository:team/app:pull,push");
    const ok = await kb(args, { HOME: emptyHome(), KB_REGISTRY_AUTH: JSON.stringify({ [tok.host]: { username: tok.username, password: tok.password } }) });
    expect(ok.code).toBe(0);
  });
});

describe("push check before the build", () => {
  test("registry down: fails naming the registry, one ECONNREFUSED, and the skip flag", async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const r = await kb(["build", "--cache-dir", cache, "--insecure-registry", host, "-t", `${host}/app:1`, scratchCtx()], { HOME: emptyHome(), DOCKER_CONFIG: undefined });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Cannot push to destination "${host}/app": the registry "${host}" cannot be reached`);
    expect(r.err.match(/ECONNREFUSED/g)?.length).toBe(1);
    expect(r.err).toContain("--skip-push-permission-check");
  });

  test("no credentials: says missing, where kb looked, and what to do", async () => {
    const home = emptyHome();
    const r = await kb(["build", "--cache-dir", cache, "--registry-certificate", `${tls.host}=${tls.caFile}`, "-t", `${tls.host}/app:1`, scratchCtx()], { HOME: home, DOCKER_CONFIG: undefined, KB_REGISTRY_AUTH: undefined });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error[REGISTRY_UNAUTHORIZED]: Cannot push to destination "${tls.host}/app": credentials for "${tls.host}" are missing`);
    expect(r.err).toContain(join(home, ".docker", "config.json"));
    expect(r.err).toContain(`kb login ${tls.host}`);
  });

  test("wrong credentials: says rejected and names the config file they came from; the password never shows", async () => {
    const cfg = dockerConfig(tls.host, tls.username!, "wrong-Password-42");
    const r = await kb(["build", "--cache-dir", cache, "--registry-certificate", `${tls.host}=${tls.caFile}`, "-t", `${tls.host}/app:1`, scratchCtx()], { HOME: emptyHome(), DOCKER_CONFIG: cfg, KB_REGISTRY_AUTH: undefined });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`the registry "${tls.host}" rejected the credentials from ${join(cfg, "config.json")}`);
    expect(r.err).not.toContain("wrong-Password-42");
  });

  test("the cache repo is checked too, with KB_REGISTRY_AUTH named as the source", async () => {
    const auth = JSON.stringify({ [tls.host]: { username: tls.username, password: "nope-nope-1" } });
    const r = await kb(["build", "--cache-dir", cache, "--registry-certificate", `${tls.host}=${tls.caFile}`, "--insecure-registry", plain.host, "-t", `${plain.host}/ok:1`, "--cache-repo", `${tls.host}/cache`, scratchCtx()], { HOME: emptyHome(), DOCKER_CONFIG: undefined, KB_REGISTRY_AUTH: auth });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Cannot push to cache repo "${tls.host}/cache": the registry "${tls.host}" rejected the credentials from KB_REGISTRY_AUTH`);
  });

  test("a failing check ends the build before a long RUN finishes (it would sleep for 10 minutes)", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${plain.base}\nRUN sleep 600\n` });
    const r = await kb(["build", "--cache-dir", cache, "--no-cache", "--insecure-registry", plain.host, "--registry-certificate", `${tls.host}=${tls.caFile}`, "-t", `${tls.host}/app:1`, ctx], { HOME: emptyHome(), DOCKER_CONFIG: undefined, KB_REGISTRY_AUTH: undefined });
    expect(r.code).toBe(1);
    expect(r.err).toContain("credentials for");
    expect(r.err).toContain("are missing");
  }, 120_000);

  test("a check that fails while a RUN is running stops that RUN (a destination that accepts connections and never answers)", async () => {
    const sockets: Socket[] = [];
    const hung = createServer((sock) => void sockets.push(sock));
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    const host = `127.0.0.1:${(hung.address() as { port: number }).port}`;
    try {
      const marker = `kb-pushcheck-${process.pid}-${Date.now()}`;
      const ctx = makeContext({ Dockerfile: `FROM ${plain.base}\nRUN echo started && sleep 600 && echo ${marker}\n` });
      const { done } = spawnKb(["build", "--cache-dir", cache, "--no-cache", "--insecure-registry", plain.host, "--progress", "plain", "-t", `${host}/app:1`, ctx], { KB_REGISTRY_TIMEOUT: "3", HOME: emptyHome() });
      const exit = await done;
      expect(exit.err).toContain("started");
      expect(exit.err).toContain(`the registry "${host}" cannot be reached`);
      expect(exit.code).toBe(1);
      expect(await waitNoProcesses(marker)).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      hung.close();
    }
  }, 120_000);

  test("right credentials pass, and --skip-push-permission-check defers the failure to the push", async () => {
    const good = dockerConfig(tls.host, tls.username!, tls.password!);
    const ok = await kb(["build", "--cache-dir", cache, "--registry-certificate", `${tls.host}=${tls.caFile}`, "-t", `${tls.host}/app:1`, scratchCtx()], { HOME: emptyHome(), DOCKER_CONFIG: good });
    expect(ok.code).toBe(0);
    expect(ok.err).toContain(`${tls.host}/app:1`);
    const skipped = await kb(["build", "--cache-dir", cache, "--skip-push-permission-check", "--registry-certificate", `${tls.host}=${tls.caFile}`, "-t", `${tls.host}/app:2`, scratchCtx()], { HOME: emptyHome(), DOCKER_CONFIG: undefined, KB_REGISTRY_AUTH: undefined });
    expect(skipped.code).toBe(1);
    expect(skipped.err).not.toContain("Cannot push to destination");
    expect(skipped.err).toContain("REGISTRY_UNAUTHORIZED");
    // the push-time hint says the credentials are missing, and speaks of pushing, not pulling
    expect(skipped.err).toContain(`kb found no credentials for "${tls.host}"`);
    expect(skipped.err).toContain("may push to this repository");
    const wrong = dockerConfig(tls.host, tls.username!, "wrong-Password-42");
    const rejected = await kb(["build", "--cache-dir", cache, "--skip-push-permission-check", "--registry-certificate", `${tls.host}=${tls.caFile}`, "-t", `${tls.host}/app:3`, scratchCtx()], { HOME: emptyHome(), DOCKER_CONFIG: wrong, KB_REGISTRY_AUTH: undefined });
    expect(rejected.code).toBe(1);
    expect(rejected.err).toContain(`the registry refused the credentials kb has for "${tls.host}"`);
  });
});
