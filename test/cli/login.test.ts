import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, kbProcess } from "./_capture.ts";

const reg = useRegistryWithBusybox({ flavour: "tls-basic" });
let work: string;
beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "kb-cli-login-"));
});
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const freshConfigDir = (name: string) => path.join(work, name);

describe("kb login", () => {
  test("`kb login --password-stdin` writes config.json (0600) that `kb pull` then uses", async () => {
    const dockerConfig = freshConfigDir("ok");
    const env = { DOCKER_CONFIG: dockerConfig };
    const ca = `--registry-certificate=${reg.host}=${reg.caFile}`;
    const before = await kb(["pull", reg.base, "--oci", path.join(work, "denied"), ca], { env });
    expect(before.code).toBe(1);
    expect(before.err).toContain("REGISTRY_UNAUTHORIZED");

    const r = await kb(["login", reg.host, "-u", reg.username!, "--password-stdin", ca], { env, stdin: `${reg.password}\n` });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Login Succeeded");
    expect(r.out).not.toContain(reg.password!);
    const file = path.join(dockerConfig, "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const auth = JSON.parse(readFileSync(file, "utf8")).auths[reg.host].auth;
    expect(Buffer.from(auth, "base64").toString()).toBe(`${reg.username}:${reg.password}`);

    const pulled = await kb(["pull", reg.base, "--oci", path.join(work, "pulled"), ca, "-q"], { env });
    expect(pulled.code).toBe(0);
    expect(pulled.out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  test("a wrong password exits 1, never shows the password, and writes nothing", async () => {
    const dockerConfig = freshConfigDir("wrong");
    const wrong = "Wr0ng-pass-xyz";
    const r = await kb(["login", reg.host, "-u", reg.username!, "-p", wrong, `--registry-certificate=${reg.host}=${reg.caFile}`], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[REGISTRY_UNAUTHORIZED]");
    expect(r.err).toContain("hint: check the user name and password");
    expect(r.err).toContain("use --password-stdin"); // the -p warning
    expect(r.out + r.err).not.toContain(wrong);
    expect(r.out + r.err).not.toContain(Buffer.from(`${reg.username}:${wrong}`).toString("base64"));
    expect(existsSync(path.join(dockerConfig, "config.json"))).toBe(false);
  });

  test("login keeps the other keys of an existing config.json", async () => {
    const dockerConfig = freshConfigDir("keep");
    const file = path.join(dockerConfig, "config.json");
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(file, JSON.stringify({ auths: { "other.example": { auth: "eDp5" } }, credHelpers: {}, psFormat: "table" }));
    const r = await kb(["login", `https://${reg.host}/v2/`, "-u", reg.username!, "--password-stdin", `--registry-certificate=${reg.host}=${reg.caFile}`], { env: { DOCKER_CONFIG: dockerConfig }, stdin: reg.password });
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(config.auths).sort()).toEqual(["other.example", reg.host].sort());
    expect(config.psFormat).toBe("table");
  });

  test("`--insecure-registry HOST` and `--skip-tls-verify` reach a TLS registry whose CA kb was not given", async () => {
    for (const flags of [["--insecure-registry", reg.host], ["--skip-tls-verify"]]) {
      const env = { DOCKER_CONFIG: freshConfigDir(`insecure${flags.length}`) };
      const login = await kb(["login", reg.host, "-u", reg.username!, "--password-stdin", ...flags], { env, stdin: reg.password });
      expect(login.code).toBe(0);
      const inspect = await kb(["inspect", "--format", "json", reg.base, ...flags], { env });
      expect(inspect.code).toBe(0);
      expect(JSON.parse(inspect.out).image.platform).toBe("linux/amd64");
    }
    const strict = await kb(["inspect", reg.base], { env: { DOCKER_CONFIG: freshConfigDir("insecure1") } });
    expect(strict.code).toBe(1);
    expect(strict.err).toContain("--registry-certificate");
  });

  test("usage errors exit 2: no user, no password, both password flags, two hosts", async () => {
    for (const argv of [["login", reg.host, "--password-stdin"], ["login", reg.host, "-u", "x"], ["login", reg.host, "-u", "x", "-p", "y", "--password-stdin"], ["login", "a", "b"], ["login"]]) {
      const r = await kb(argv, { stdin: "pw" });
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
    }
  });

  test("`bun src/main.ts login --password-stdin` reads the password from the process's stdin", async () => {
    const dockerConfig = freshConfigDir("subprocess");
    const r = await kbProcess(["login", reg.host, "-u", reg.username!, "--password-stdin", "--registry-certificate", `${reg.host}=${reg.caFile}`], { env: { DOCKER_CONFIG: dockerConfig }, stdin: `${reg.password}\n` });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(path.join(dockerConfig, "config.json"))).toBe(true);
  });
});
