// install.sh against a real local HTTP server serving a release folder with a fake kb (a shell script).
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

// Subprocesses and a local HTTP server: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

const SCRIPT = path.resolve(import.meta.dir, "../../install.sh");
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const fakeKb = (v: string) => `#!/bin/sh\necho "kb ${v} (fake)"\n`;

let root: string;
let server: Server;
let base: string;
/** URL path → body; tests change it to shape the release. */
let files = new Map<string, string | Buffer>();
const requests: { url: string; agent: string }[] = [];

function release(dir: string, v: string, opts: { badSum?: boolean; assets?: string[] } = {}): void {
  const assets = opts.assets ?? ["kb-linux-x64", "kb-linux-arm64"];
  const sums = assets.map((a) => `${opts.badSum ? sha("something else") : sha(fakeKb(v))}  ${a}\n`).join("");
  files.set(`${dir}/SHA256SUMS`, sums);
  for (const a of assets) files.set(`${dir}/${a}`, fakeKb(v));
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "kb-install-test-"));
  chmodSync(root, 0o755);
  // A fake uname, so every test sees the same machine (FAKE_OS, FAKE_ARCH).
  mkdirSync(path.join(root, "fakebin"));
  writeFileSync(path.join(root, "fakebin/uname"),
    '#!/bin/sh\ncase "$1" in -s) echo "${FAKE_OS:-Linux}";; -m) echo "${FAKE_ARCH:-x86_64}";; *) exec /bin/uname "$@";; esac\n', { mode: 0o755 });
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", agent: String(req.headers["user-agent"] ?? "") });
    const body = files.get(req.url ?? "");
    res.writeHead(body === undefined ? 404 : 200).end(body ?? "not found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/latest/download`;
});
afterAll(() => {
  server?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Run { code: number; stderr: string }
/** The installer runs as nobody when the tests run as root; as any other user, as that user. */
const NON_ROOT = process.getuid?.() === 0 ? 65534 : undefined;

async function install(env: Record<string, string>, opts: { args?: string[]; user?: number; pathDirs?: string[] } = {}): Promise<Run> {
  const work = mkdtempSync(path.join(root, "tmp-"));
  chmodSync(work, 0o777);
  const pathDirs = opts.pathDirs ?? [path.join(root, "fakebin"), "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];
  const fullEnv = { PATH: pathDirs.join(":"), HOME: work, TMPDIR: work, KB_INSTALL_BASE_URL: base, KB_INSTALL_LIBC: "gnu", ...env };
  const cmd = opts.user === undefined ? ["sh", SCRIPT] : ["setpriv", `--reuid=${opts.user}`, `--regid=${opts.user}`, "--clear-groups", "sh", SCRIPT];
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...(opts.args ?? [])], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => (stderr += d));
  const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? 1)));
  // Nothing may be left in the temp dir the installer used.
  expect(readdirSync(work).filter((f) => f !== ".local")).toEqual([]);
  return { code, stderr };
}

function freshDir(): string {
  return mkdtempSync(path.join(root, "bin-"));
}

test("`install.sh` downloads, verifies and installs the binary for this arch, and says the dir is not on PATH", async () => {
  files = new Map();
  release("/latest/download", "9.9.9");
  const dir = freshDir();
  const r = await install({ KB_INSTALL_DIR: dir });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("downloading kb-linux-x64");
  expect(r.stderr).toContain(`installed kb 9.9.9 (fake) to ${dir}/kb`);
  expect(r.stderr).toContain("is not on your PATH");
  expect(statSync(path.join(dir, "kb")).mode & 0o777).toBe(0o755);
  expect(readdirSync(dir)).toEqual(["kb"]);
});

test("`install.sh` picks the arm64 binary on aarch64 and installs to ~/.local/bin without KB_INSTALL_DIR as non-root", async () => {
  files = new Map();
  release("/latest/download", "9.9.9");
  const before = requests.length;
  const r = await install({ FAKE_ARCH: "aarch64" }, { user: NON_ROOT });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/installed kb 9\.9\.9 \(fake\) to .*\/\.local\/bin\/kb/);
  expect(requests.slice(before).map((q) => q.url)).toContain("/latest/download/kb-linux-arm64");
});

test("`install.sh` fails on a wrong checksum and installs nothing", async () => {
  files = new Map();
  release("/latest/download", "9.9.9", { badSum: true });
  const dir = freshDir();
  const r = await install({ KB_INSTALL_DIR: dir });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('checksum mismatch for "kb-linux-x64"');
  expect(r.stderr).toContain("nothing was installed");
  expect(readdirSync(dir)).toEqual([]);
});

test("`install.sh` says clearly when the CPU, the OS or the release asset is not supported", async () => {
  files = new Map();
  release("/latest/download", "9.9.9");
  const cpu = await install({ KB_INSTALL_DIR: freshDir(), FAKE_ARCH: "s390x" });
  expect(cpu.code).not.toBe(0);
  expect(cpu.stderr).toContain('no kb binary for the CPU "s390x"');
  const os = await install({ KB_INSTALL_DIR: freshDir(), FAKE_OS: "Darwin" });
  expect(os.code).not.toBe(0);
  expect(os.stderr).toContain('kb runs on Linux only, and this is "Darwin"');
  const dir = freshDir();
  const musl = await install({ KB_INSTALL_DIR: dir, KB_INSTALL_LIBC: "musl" });
  expect(musl.code).not.toBe(0);
  expect(musl.stderr).toContain("kb-linux-x64-musl\": this release may have no binary for linux/x64 (musl)");
  expect(readdirSync(dir)).toEqual([]);
});

test("`install.sh` as a user who cannot write the install dir fails with a clear error", async () => {
  files = new Map();
  release("/latest/download", "9.9.9");
  const dir = freshDir();
  chmodSync(dir, NON_ROOT === undefined ? 0o555 : 0o755); // not writable by the user the installer runs as
  const r = await install({ KB_INSTALL_DIR: dir }, { user: NON_ROOT });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`cannot write to "${dir}" as ${NON_ROOT === undefined ? userInfo().username : "nobody"}`);
  expect(readdirSync(dir)).toEqual([]);
});

test("`install.sh` re-installs by replacing the binary atomically", async () => {
  files = new Map();
  release("/latest/download", "9.9.9");
  const dir = freshDir();
  expect((await install({ KB_INSTALL_DIR: dir })).code).toBe(0);
  const inode = statSync(path.join(dir, "kb")).ino;
  files = new Map();
  release("/latest/download", "9.9.10");
  const r = await install({ KB_INSTALL_DIR: dir }, { pathDirs: [dir, path.join(root, "fakebin"), "/usr/bin", "/bin"] });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("replaced kb 9.9.9 (fake) with kb 9.9.10 (fake)");
  expect(r.stderr).not.toContain("not on your PATH");
  expect(readdirSync(dir)).toEqual(["kb"]);
  expect(statSync(path.join(dir, "kb")).ino).not.toBe(inode); // a rename, not a rewrite in place
});

test("`install.sh --version X` downloads from the vX release folder", async () => {
  files = new Map();
  release("/download/v1.2.3", "1.2.3");
  const dir = freshDir();
  const r = await install({ KB_INSTALL_DIR: dir }, { args: ["--version", "1.2.3"] });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("installed kb 1.2.3 (fake)");
});

test("`install.sh` downloads with wget when curl is missing", async () => {
  files = new Map();
  release("/latest/download", "9.9.9");
  // A PATH with everything but curl.
  const noCurl = path.join(root, "nocurl");
  if (!existsSync(noCurl)) {
    mkdirSync(noCurl);
    for (const d of ["/usr/bin", "/usr/sbin"]) {
      for (const f of readdirSync(d)) {
        if (f === "curl" || f === "uname" || existsSync(path.join(noCurl, f))) continue;
        symlinkSync(path.join(d, f), path.join(noCurl, f));
      }
    }
  }
  const before = requests.length;
  const dir = freshDir();
  const r = await install({ KB_INSTALL_DIR: dir }, { pathDirs: [path.join(root, "fakebin"), noCurl] });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("installed kb 9.9.9 (fake)");
  const agents = requests.slice(before).map((q) => q.agent);
  expect(agents.length).toBe(2);
  expect(agents.every((a) => /wget/i.test(a))).toBe(true);
});

/** A release with kb-linux-x64 and its .gz; `inner` is what the .gz unpacks to (the real binary unless given). */
function gzRelease(v: string, opts: { inner?: string; badGzSum?: boolean } = {}): void {
  const gz = gzipSync(opts.inner ?? fakeKb(v));
  const gzSum = opts.badGzSum ? sha("nope") : createHash("sha256").update(gz).digest("hex");
  files.set("/latest/download/SHA256SUMS", `${sha(fakeKb(v))}  kb-linux-x64\n${gzSum}  kb-linux-x64.gz\n${sha("#!/bin/sh")}  install.sh\n`);
  files.set("/latest/download/kb-linux-x64", fakeKb(v));
  files.set("/latest/download/kb-linux-x64.gz", gz);
}

test("`install.sh` downloads the .gz when gzip is here, and the raw binary when it is not", async () => {
  files = new Map();
  gzRelease("9.9.9");
  let before = requests.length;
  const dir = freshDir();
  const r = await install({ KB_INSTALL_DIR: dir });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("downloading kb-linux-x64.gz");
  expect(requests.slice(before).map((q) => q.url)).toEqual(["/latest/download/SHA256SUMS", "/latest/download/kb-linux-x64.gz"]);
  expect(readdirSync(dir)).toEqual(["kb"]);
  // A PATH without gzip: the raw file.
  const noGzip = path.join(root, "nogzip");
  if (!existsSync(noGzip)) {
    mkdirSync(noGzip);
    for (const d of ["/usr/bin", "/bin"]) for (const f of readdirSync(d)) if (!/^(gzip|gunzip|zcat|uname)$/.test(f) && !existsSync(path.join(noGzip, f))) symlinkSync(path.join(d, f), path.join(noGzip, f));
  }
  before = requests.length;
  const r2 = await install({ KB_INSTALL_DIR: freshDir() }, { pathDirs: [path.join(root, "fakebin"), noGzip] });
  expect(r2.code).toBe(0);
  expect(requests.slice(before).map((q) => q.url)).toEqual(["/latest/download/SHA256SUMS", "/latest/download/kb-linux-x64"]);
});

test("`install.sh` checks the .gz before unpacking and the binary after, installing nothing on a mismatch", async () => {
  files = new Map();
  gzRelease("9.9.9", { badGzSum: true });
  const dir = freshDir();
  const before = await install({ KB_INSTALL_DIR: dir });
  expect(before.code).not.toBe(0);
  expect(before.stderr).toContain('checksum mismatch for "kb-linux-x64.gz"');
  files = new Map();
  gzRelease("9.9.9", { inner: "#!/bin/sh\necho tampered\n" });
  const after = await install({ KB_INSTALL_DIR: dir });
  expect(after.code).not.toBe(0);
  expect(after.stderr).toContain('checksum mismatch for "kb-linux-x64"');
  expect(readdirSync(dir)).toEqual([]);
});
