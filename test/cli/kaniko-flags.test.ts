// Every flag of Kaniko's executor (GoogleContainerTools/kaniko cmd/executor/cmd/root.go, last release) is
// accepted; the ones with a meaning in kb work end to end against real registries: --registry-map,
// --skip-default-registry-fallback, --registry-client-cert (a registry demanding client certificates),
// --image-name-tag-with-digest-file (Kaniko's exact lines), --ignore-var-run.

import { beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFlags } from "../../src/cli/commands/build-flags.ts";
import { toBuildOptions } from "../../src/cli/commands/build-options.ts";
import { parseFlags } from "../../src/cli/flags.ts";
import { executorArgv } from "../../src/cli/main.ts";
import { registryClientOptions } from "../../src/engine/core/registry-options.ts";
import { kb, makeContext, skopeoRaw, tempDir } from "../kit/kb.ts";
import { useRegistry, useRegistryWithBusybox } from "../kit/registry-fixture.ts";

// Real registries and subprocesses: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

/** Kaniko's executor flags with a sample value (undefined: a boolean). */
const KANIKO_FLAGS: Record<string, string | undefined> = {
  bucket: "my-bucket", dockerfile: "Dockerfile", context: "dir:///workspace", "context-sub-path": "sub", destination: "reg.example/app:1",
  "snapshot-mode": "redo", "custom-platform": "linux/amd64", "build-arg": "A=1", insecure: undefined, "skip-tls-verify": undefined,
  "insecure-pull": undefined, "skip-tls-verify-pull": undefined, "push-retry": "2", "push-ignore-immutable-tag-errors": undefined,
  "image-fs-extract-retry": "2", "image-download-retry": "3", "kaniko-dir": "/kaniko", "tar-path": "out.tar", "single-snapshot": undefined,
  reproducible: undefined, target: "final", "no-push": undefined, "no-push-cache": undefined, "cache-repo": "reg.example/cache",
  "cache-dir": "/cache", "digest-file": "d", "image-name-with-digest-file": "n", "image-name-tag-with-digest-file": "t",
  "oci-layout-path": "oci", compression: "zstd", "compression-level": "3", cache: undefined, "compressed-caching": undefined,
  cleanup: undefined, "cache-ttl": "6h", "insecure-registry": "reg.example", "skip-tls-verify-registry": "reg.example",
  "registry-certificate": "reg.example=/ca.pem", "registry-client-cert": "reg.example=/c.pem,/k.pem",
  "registry-map": "index.docker.io=mirror.example;quay.io=mirror.example", "registry-mirror": "mirror.example",
  "skip-default-registry-fallback": undefined, "ignore-var-run": undefined, label: "a=b", "skip-unused-stages": undefined,
  "use-new-run": undefined, "cache-copy-layers": undefined, "cache-run-layers": undefined, "ignore-path": "/x",
  "force-build-metadata": undefined, "skip-push-permission-check": undefined, "preserve-context": undefined,
  verbosity: "info", "log-format": "text", "log-timestamp": undefined, force: undefined,
  "azure-container-registry-config": "/acr.json", snapshotMode: "full", customPlatform: "linux/arm64", tarPath: "x.tar", "whitelist-var-run": undefined,
};

describe("Kaniko's flags", () => {
  test("every executor flag parses, alone and all together", () => {
    const all: string[] = [];
    for (const [name, value] of Object.entries(KANIKO_FLAGS)) {
      const argv = value === undefined ? [`--${name}`] : [`--${name}`, value];
      expect(() => toBuildOptions(parseFlags(argv, buildFlags), {})).not.toThrow();
      all.push(...argv);
    }
    const o = toBuildOptions(parseFlags(all, buildFlags), {});
    expect(o.registry.registryMap).toEqual({ "index.docker.io": ["mirror.example"], "quay.io": ["mirror.example"] });
    expect(o.registry.clientCerts).toEqual({ "reg.example": { cert: "/c.pem", key: "/k.pem" } });
    expect(o.registry.pullRetries).toBe(3);
    expect(o.extractRetries).toBe(2);
    expect(o.ignorePaths).toEqual(["/x", "/var/run"]);
    const retries = (argv: string[]) => registryClientOptions(toBuildOptions(parseFlags(argv, buildFlags), {}), {}).retries;
    expect([retries([]), retries(["--image-download-retry", "7"]), retries(["--push-retry", "5", "--image-download-retry", "1"])]).toEqual([3, 7, 5]);
    expect(toBuildOptions(parseFlags(["--registry-mirror", "a.example"], buildFlags), { KANIKO_REGISTRY_MIRROR: "b.example" }).registry.mirrors).toEqual(["a.example", "b.example"]);
  });

  test("--git branch=B names the branch of a git context; flags meaningless to kb print a one-line notice", () => {
    expect(toBuildOptions(parseFlags(["--bucket", "b"], buildFlags), {}).context).toBe("https://storage.googleapis.com/b/context.tar.gz");
    expect(toBuildOptions(parseFlags(["--context", "s3://b/ctx.tar.gz"], buildFlags), {}).context).toBe("https://b.s3.amazonaws.com/ctx.tar.gz");
    expect(toBuildOptions(parseFlags(["--context", "git://example.com/r.git", "--git", "branch=dev,single-branch=true"], buildFlags), {}).context).toBe("git://example.com/r.git#dev");
    const p = parseFlags(["--compressed-caching=false", "--preserve-context"], buildFlags);
    expect(p.notices).toHaveLength(2);
    expect(p.notices[0]).toStartWith("--compressed-caching: accepted for Kaniko compatibility");
  });

  test("`executorArgv()`: run as /kaniko/executor, a Kaniko command line is `kb build`; kb's own commands still work", () => {
    expect(executorArgv("/kaniko/executor", ["--context", "dir:///w", "-d", "r/a"])).toEqual(["build", "--context", "dir:///w", "-d", "r/a"]);
    expect(executorArgv("/kaniko/executor", ["version"])).toEqual(["version"]);
    expect(executorArgv("/kaniko/executor", [])).toEqual(["build"]);
    expect(executorArgv("/usr/local/bin/kb", ["--context", "x"])).toEqual(["--context", "x"]);
    expect(executorArgv("/kaniko/warmer", ["--cache-dir=/cache", "--image=debian"])).toEqual(["warm", "--cache-dir=/cache", "--image=debian"]);
  });

  test("the migration guide lists every Kaniko flag and marks none Not supported", () => {
    const doc = readFileSync(join(import.meta.dir, "../../docs/migrating-from-kaniko.md"), "utf8");
    expect(doc).not.toMatch(/not supported/i);
    for (const name of Object.keys(KANIKO_FLAGS)) if (!/[A-Z]/.test(name) && name !== "whitelist-var-run") expect(doc).toContain(`\`--${name}`);
  });
});

describe("Kaniko's flags against real registries", () => {
  const origin = useRegistryWithBusybox({ busybox: { repo: "library/busybox", tag: "latest" } });
  const mirror = useRegistryWithBusybox({ busybox: { repo: "team/base", tag: "1" } });
  const mtls = useRegistry({ flavour: "tls-basic", clientCerts: true });
  let cache: string;
  beforeAll(() => {
    cache = tempDir("kb-cache-");
  });

  test("`kb warm` (Kaniko's warmer flags) fills a store that a later build reads base layers from", async () => {
    const store = tempDir("kb-warm-");
    const r = await kb(["warm", "--cache-dir", store, "--image", `${origin.host}/library/busybox`, "--image", `${mirror.host}/team/base:1`, "-q"]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n")).toHaveLength(2);
    const ls = await kb(["cache", "ls", "--cache-dir", store]);
    expect(ls.out.match(/pulled-image/g)).toHaveLength(2);
    const ctx = makeContext({ Dockerfile: `FROM ${origin.host}/library/busybox\nLABEL warmed=yes\n` });
    const b = await kb(["build", "--cache-dir", store, "--no-push", "--progress", "plain", ctx]);
    expect(b.code).toBe(0);
    // the base's layer comes from the store (only its small config is asked of the registry)
    const layer = (skopeoRaw(`${origin.host}/library/busybox`) as { layers: { digest: string }[] }).layers[0]!.digest;
    expect(b.err).not.toContain(`pull ${layer.slice(0, 19)}`);
    const none = await kb(["warm", "--cache-dir", store]);
    expect(none.code).toBe(2);
  });

  test("--image-name-tag-with-digest-file writes NAME:TAG@DIGEST per destination (untagged = latest), as Kaniko", async () => {
    const dir = tempDir("kb-digest-");
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY a /a\n", a: "a" });
    const r = await kb(["build", "--cache-dir", cache, "-d", `${origin.host}/app:1`, "-d", `${origin.host}/app`, "--image-name-tag-with-digest-file", join(dir, "t"), "--image-name-with-digest-file", join(dir, "n"), "--digest-file", join(dir, "d"), ctx]);
    expect(r.code).toBe(0);
    const digest = readFileSync(join(dir, "d"), "utf8");
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, "t"), "utf8")).toBe(`${origin.host}/app:1@${digest}\n${origin.host}/app:latest@${digest}\n`);
    expect(readFileSync(join(dir, "n"), "utf8")).toBe(`${origin.host}/app@${digest}\n${origin.host}/app@${digest}\n`);
  });

  test("--registry-map pulls a registry's images from the mirror first; --skip-default-registry-fallback never asks the registry", async () => {
    // The mirror holds team/base:1, the origin does not: only a map can make this FROM work.
    const ctx = makeContext({ Dockerfile: `FROM ${origin.host}/team/base:1\nLABEL mapped=yes\n` });
    const out = `${origin.host}/mapped:1`;
    const mapped = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--registry-map", `${origin.host}=${mirror.host}`, "-d", out, ctx]);
    if (mapped.code !== 0) console.log(mapped.err);
    expect(mapped.code).toBe(0);
    expect(skopeoRaw(out).layers).toBeDefined();
    // The origin has library/busybox, the mirror does not: without fallback the build must fail.
    const ctx2 = makeContext({ Dockerfile: `FROM ${origin.host}/library/busybox\nLABEL x=y\n` });
    const fallback = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--no-push", "--registry-map", `${origin.host}=${mirror.host}`, ctx2]);
    expect(fallback.code).toBe(0);
    const strict = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--no-push", "--registry-map", `${origin.host}=${mirror.host}`, "--skip-default-registry-fallback", ctx2]);
    expect(strict.code).toBe(1);
    expect(strict.err).toContain(mirror.host);
  });

  test("--registry-client-cert: a registry demanding client certificates refuses kb without one and accepts it with one", async () => {
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY a /a\n", a: "mtls" });
    const auth = { KB_REGISTRY_AUTH: JSON.stringify({ [mtls.host]: { username: mtls.username, password: mtls.password } }) };
    const base = ["build", "--cache-dir", cache, "--registry-certificate", `${mtls.host}=${mtls.caFile}`, "-d", `${mtls.host}/app:1`];
    const without = await kb([...base, ctx], auth);
    expect(without.code).toBe(1);
    expect(without.err).toContain(`the registry "${mtls.host}" cannot be reached`);
    const withCert = await kb([...base, "--registry-client-cert", `${mtls.host}=${mtls.clientCert!.cert},${mtls.clientCert!.key}`, ctx], auth);
    expect(withCert.code).toBe(0);
    expect(withCert.err).toContain(`${mtls.host}/app:1`);
  });
});
