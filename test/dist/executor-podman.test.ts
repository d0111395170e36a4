// The executor images as CI runs them: kb-executor (scratch) and kb-executor:debug (busybox shell), built by kb,
// pulled and run by podman with runc, default seccomp and no extra capabilities (TEST-INFRA-NOTES "Running
// images the way a pod would"). The GitLab job script (examples/ci/gitlab-ci.yml) runs in :debug, the
// Kubernetes Job's args (examples/ci/kubernetes-job.yaml) in both; each builds a RUN Dockerfile and pushes to a
// registry with TLS + htpasswd, credentials from /kaniko/.docker/config.json.
// Slow: runs with KB_SLOW_TESTS=1 (compiling dist/kb first) or when dist/kb exists; needs root and podman.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stageExecutorContext } from "../../scripts/build-executor.ts";
import { kb, tempDir } from "../kit/kb.ts";
import { useRegistry, useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { ensureCompiledKb } from "../kit/throwaway-root.ts";

// Real registries and subprocesses: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

const REPO = join(import.meta.dir, "../..");
const slow = process.env.KB_SLOW_TESTS === "1";
const skip = process.getuid?.() !== 0
  ? "not root (podman with a private storage root)"
  : spawnSync("sh", ["-c", "command -v podman && test -x /usr/sbin/runc"]).status !== 0
    ? "podman or runc missing (apt-get install podman runc)"
    : !slow && !existsSync(join(REPO, "dist/kb")) ? "no dist/kb (run `bun build.ts`, or set KB_SLOW_TESTS=1)" : undefined;
if (skip) console.log(`executor-podman.test.ts: skipped: ${skip}`);

const images = useRegistry({ skip }); // plain http: where the executor images live
const reg = useRegistryWithBusybox({ flavour: "tls-basic", skip }); // TLS + htpasswd: where the jobs push
let store: string;
const image = { scratch: "", debug: "" };

beforeAll(async () => {
  if (skip) return;
  const binary = ensureCompiledKb();
  store = tempDir("kb-podman-");
  const cache = tempDir("kb-cache-");
  for (const v of ["scratch", "debug"] as const) {
    const ref = `${images.host}/kb/executor:${v}`;
    const r = await kb(["build", "--cache-dir", cache, "-q", "-t", ref, stageExecutorContext(binary, { debug: v === "debug" })]);
    if (r.code !== 0) throw new Error(`building the ${v} executor image failed:\n${r.err}`);
    image[v] = ref;
  }
}, 600_000);
afterAll(async () => {
  if (store) {
    spawnSync("podman", [...podmanRoot(), "rm", "-af"], { stdio: "ignore" });
    rmSync(store, { recursive: true, force: true });
  }
});

function podmanRoot(): string[] {
  return ["--root", join(store, "root"), "--runroot", join(store, "run"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"];
}

/** `podman run` as a pod would run: runc, default seccomp, default capabilities, the host network for the local registries. */
function podmanRun(args: string[]): Promise<{ code: number; out: string }> {
  const argv = [...podmanRoot(), "run", "--rm", "--runtime", "/usr/sbin/runc", "--ulimit", "nofile=10000:10000", "--ulimit", "nproc=5000:5000", "--tls-verify=false", "--network", "host", ...args];
  return new Promise((resolve) => {
    const child = spawn("podman", argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

function workspace(marker: string): string {
  const dir = tempDir("kb-ws-");
  writeFileSync(join(dir, "Dockerfile"), `FROM ${reg.host}/library/busybox\nRUN echo "${marker}" > /marker.txt && cat /etc/hostname >/dev/null\nCOPY note.txt /note.txt\n`);
  writeFileSync(join(dir, "note.txt"), `${marker}\n`);
  return dir;
}

function skopeoFile(ref: string, file: string): string {
  const dir = tempDir("kb-skopeo-");
  const creds = ["--src-creds", `${reg.username}:${reg.password}`, "--src-cert-dir", certDir()];
  const r = spawnSync("skopeo", ["copy", ...creds, `docker://${ref}`, `oci:${dir}/oci:x`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const u = spawnSync("umoci", ["unpack", "--image", `${dir}/oci:x`, `${dir}/bundle`], { encoding: "utf8" });
  if (u.status !== 0) throw new Error(u.stderr);
  return readFileSync(join(dir, "bundle/rootfs", file), "utf8");
}

function certDir(): string {
  const d = join(store, "certs", reg.host);
  if (!existsSync(d)) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "ca.crt"), readFileSync(reg.caFile!));
  }
  return d;
}

/** Kubernetes' $(VAR) expansion of a container's args from its env list. */
function expandArgs(args: string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m));
}

describe.skipIf(!!skip)("executor images under podman + runc", () => {
  test("the GitLab job script runs in kb-executor:debug and pushes (config.json written by the script, CA added to the bundle)", async () => {
    const job = (Bun.YAML.parse(readFileSync(join(REPO, "examples/ci/gitlab-ci.yml"), "utf8")) as Record<string, { image: { name: string; entrypoint: string[] }; script: string[] }>)["build-image"]!;
    expect(job.image.name).toEndWith("kb-executor:debug");
    expect(job.image.entrypoint).toEqual([""]);
    const ws = workspace("from gitlab");
    const vars: Record<string, string> = {
      CI_REGISTRY: reg.host, CI_REGISTRY_USER: reg.username!, CI_REGISTRY_PASSWORD: reg.password!, CI_REGISTRY_IMAGE: `${reg.host}/group/project`,
      CI_COMMIT_SHORT_SHA: "abc1234", CI_PROJECT_DIR: "/builds/group/project", CI_SERVER_TLS_CA_FILE: "/builds/ca.pem",
    };
    const script = ["set -e", ...job.script].join("\n");
    const r = await podmanRun([
      "-v", `${ws}:/builds/group/project`, "-v", `${reg.caFile}:/builds/ca.pem:ro`,
      ...Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      "--entrypoint", "", image.debug, "sh", "-c", script,
    ]);
    if (r.code !== 0) console.log(r.out);
    expect(r.code).toBe(0);
    const ref = `${reg.host}/group/project:abc1234`;
    expect(skopeoFile(ref, "marker.txt")).toBe("from gitlab\n");
    expect(readFileSync(join(ws, "image-digest.txt"), "utf8")).toMatch(new RegExp(`^${ref.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}\\n$`));
  }, 600_000);

  test("--ignore-var-run in container mode leaves what a RUN writes under /var/run out of the image; without it, kb keeps it", async () => {
    const ws = tempDir("kb-ws-");
    writeFileSync(join(ws, "Dockerfile"), `FROM ${reg.host}/library/busybox\nRUN mkdir -p /var/run/app /opt && echo pid > /var/run/app/pid && echo kept > /opt/kept\n`);
    const auth = tempDir("kb-secret-");
    writeFileSync(join(auth, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString("base64") } } }));
    const files: Record<string, string[]> = {};
    for (const [name, flags] of [["ignored", ["--ignore-var-run"]], ["kept", ["--ignore-var-run=false"]]] as const) {
      const r = await podmanRun([
        "-v", `${ws}:/workspace`, "-v", `${auth}:/kaniko/.docker:ro`, "-v", `${reg.caFile}:/kaniko/ssl/certs/ca-certificates.crt:ro`,
        image.scratch, "--context", "dir:///workspace", "--no-push", "--oci-layout-path", `/workspace/${name}`, ...flags,
      ]);
      if (r.code !== 0) console.log(r.out);
      expect(r.code).toBe(0);
      const bundle = join(tempDir("kb-bundle-"), "b");
      const u = spawnSync("umoci", ["unpack", "--image", `${join(ws, name)}:latest`, bundle], { encoding: "utf8" });
      if (u.status !== 0) throw new Error(`umoci unpack failed: ${u.stderr}`);
      files[name] = ["var/run/app/pid", "opt/kept"].filter((f) => existsSync(join(bundle, "rootfs", f)));
    }
    expect(files).toEqual({ ignored: ["opt/kept"], kept: ["var/run/app/pid", "opt/kept"] });
  });

  for (const v of ["scratch", "debug"] as const) {
    test(`the Kubernetes Job's args run as the entry point of kb-executor${v === "debug" ? ":debug" : ""}, credentials from the mounted config.json`, async () => {
      const job = Bun.YAML.parse(readFileSync(join(REPO, "examples/ci/kubernetes-job.yaml"), "utf8")) as {
        spec: { template: { spec: { containers: { image: string; args: string[]; env: { name: string; value: string }[]; volumeMounts: { name: string; mountPath: string }[] }[] } } };
      };
      const c = job.spec.template.spec.containers[0]!;
      expect(c.image).toEndWith("kb-executor:latest");
      const env = { ...Object.fromEntries(c.env.map((e) => [e.name, e.value])), REGISTRY: reg.host, GIT_SHA: v };
      const auth = tempDir("kb-secret-");
      writeFileSync(join(auth, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString("base64") } } }));
      const authMount = c.volumeMounts.find((m) => m.name === "registry-auth")!.mountPath;
      expect(authMount).toBe("/kaniko/.docker");
      const ws = workspace(`from a job (${v})`);
      const r = await podmanRun([
        "-v", `${ws}:/workspace`, "-v", `${auth}:${authMount}:ro`,
        // a cluster's CA bundle, mounted over the image's
        "-v", `${reg.caFile}:/kaniko/ssl/certs/ca-certificates.crt:ro`,
        image[v], ...expandArgs(c.args, env),
      ]);
      if (r.code !== 0) console.log(r.out);
      expect(r.code).toBe(0);
      expect(r.out).toContain("RUN isolation: container"); // kb chose it by itself in the unprivileged container
      expect(skopeoFile(`${reg.host}/team/app:${v}`, "marker.txt")).toBe(`from a job (${v})\n`);
    }, 600_000);
  }
});
