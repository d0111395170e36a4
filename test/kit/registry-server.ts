// Starts Debian's docker-registry (distribution 2.8) for tests: plain http, TLS + htpasswd, or token auth.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fetchWithTls } from "../../src/runtime.ts";
import { startTokenIssuer, type TokenIssuer } from "./token-issuer.ts";

export type RegistryFlavour = "http" | "tls-basic" | "token";

export interface TestRegistry {
  flavour: RegistryFlavour;
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  caPem?: string;
  caFile?: string;
  username?: string;
  password?: string;
  /** The token issuer (token flavour). */
  issuer?: TokenIssuer;
  /** Where blobs live on disk. */
  dataDir: string;
  /** A client certificate and key the registry accepts (with `clientCerts`). */
  clientCert?: { cert: string; key: string };
  logs(): string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Token flavour: anonymous callers may pull. @default false */
  anonymousPull?: boolean;
  /** Token lifetime (token flavour). @default 300 */
  tokenTtl?: number;
  /** tls-basic flavour: demand a client certificate signed by the test CA (mutual TLS). @default false */
  clientCerts?: boolean;
}

const USER = "kbtest";
const PASSWORD = "kb-Secret-pw1";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

/** A CA and a server certificate for localhost/127.0.0.1, plus an EC key+cert for signing tokens. */
function makeCerts(dir: string): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("openssl", ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3", "-subj", "/CN=kb test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  run("openssl", ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], dir);
  writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
  run("openssl", ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "3", "-extfile", "ext.cnf"], dir);
  run("openssl", ["req", "-x509", ...ec, "-keyout", "token.key", "-out", "token.pem", "-days", "3", "-subj", "/CN=kb token signer"], dir);
}

async function waitReady(url: string, f: typeof fetch, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
    try {
      const res = await f(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer ${url}/v2/ within 15 s:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
}

/**
 * Starts a real registry on 127.0.0.1 and a free port, storage and config in a temp dir.
 * @example const reg = await startRegistry("tls-basic"); try { … } finally { await reg.stop() }
 */
export async function startRegistry(flavour: RegistryFlavour = "http", opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  if (!existsSync("/usr/bin/docker-registry") && spawnSync("sh", ["-c", "command -v docker-registry"]).status !== 0)
    throw new Error("docker-registry is not installed: run `apt-get install docker-registry` (Debian/Ubuntu)");
  const dir = mkdtempSync(path.join(tmpdir(), `kb-registry-${flavour}-`));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const tls = flavour === "tls-basic";
  const url = `${tls ? "https" : "http"}://${host}`;
  let issuer: TokenIssuer | undefined;
  let authYaml = "";
  if (flavour !== "http") makeCerts(dir);
  if (tls && opts.clientCerts) {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run("openssl", ["req", ...ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=kb test client"], dir);
    writeFileSync(path.join(dir, "client.cnf"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n");
    run("openssl", ["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.pem", "-days", "3", "-extfile", "client.cnf"], dir);
  }
  if (tls) {
    writeFileSync(path.join(dir, "htpasswd"), run("htpasswd", ["-Bbn", USER, PASSWORD], dir));
    authYaml = `auth:\n  htpasswd:\n    realm: kb-test\n    path: ${dir}/htpasswd\n`;
  } else if (flavour === "token") {
    issuer = await startTokenIssuer({
      keyPem: readFileSync(path.join(dir, "token.key"), "utf8"),
      issuer: "kb-test-issuer",
      service: "kb-test-registry",
      users: { [USER]: PASSWORD },
      anonymousPull: opts.anonymousPull,
      ttl: opts.tokenTtl,
    });
    authYaml = `auth:\n  token:\n    realm: ${issuer.realm}\n    service: kb-test-registry\n    issuer: kb-test-issuer\n    rootcertbundle: ${dir}/token.pem\n`;
  }
  const config = [
    "version: 0.1",
    "log:\n  level: debug\n  formatter: text",
    `storage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false`,
    `http:\n  addr: ${host}\n  secret: kb-test-secret${tls ? `\n  tls:\n    certificate: ${dir}/server.pem\n    key: ${dir}/server.key` : ""}${tls && opts.clientCerts ? `\n    clientcas:\n      - ${dir}/ca.pem` : ""}`,
    authYaml,
  ].join("\n");
  writeFileSync(path.join(dir, "config.yml"), `${config}\n`);
  const logFile = path.join(dir, "registry.log");
  const fd = openSync(logFile, "a");
  const child = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", fd, fd], detached: false });
  const caPem = flavour === "http" ? undefined : readFileSync(path.join(dir, "ca.pem"), "utf8");
  try {
    const client = tls && opts.clientCerts ? { cert: readFileSync(path.join(dir, "client.pem"), "utf8"), key: readFileSync(path.join(dir, "client.key"), "utf8") } : {};
    await waitReady(url, fetchWithTls(caPem ? { ca: [caPem], ...client } : undefined), child, logFile);
  } catch (e) {
    child.kill("SIGKILL");
    await issuer?.stop();
    throw e;
  }
  return {
    flavour,
    host,
    url,
    caPem,
    caFile: caPem ? path.join(dir, "ca.pem") : undefined,
    username: flavour === "http" ? undefined : USER,
    password: flavour === "http" ? undefined : PASSWORD,
    issuer,
    dataDir: path.join(dir, "data"),
    clientCert: tls && opts.clientCerts ? { cert: path.join(dir, "client.pem"), key: path.join(dir, "client.key") } : undefined,
    logs: () => readFileSync(logFile, "utf8"),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await issuer?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
