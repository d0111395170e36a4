// Remote build contexts: git repositories (https, ssh, git://, file://) fetched shallowly with the host's git,
// and tarballs over HTTP(S), streamed into a private temp dir through the safe tar extractor.

import { spawn } from "node:child_process";
import { existsSync, promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { KbError } from "../errors.ts";
import { decompressStream, extractTar } from "../layer/index.ts";

/** A remote context, parsed from what the user typed. */
export type RemoteContext =
  | { kind: "git"; url: string; ref?: string; subdir?: string; commit?: string }
  | { kind: "tarball"; url: string };

/** Options of {@link fetchRemoteContext}. */
export interface FetchRemoteOptions {
  /** Where GIT_USERNAME, GIT_PASSWORD, GIT_TOKEN, GIT_PULL_METHOD and GIT_SSH_COMMAND are read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Keep the checkout's `.git` folder (BuildKit's BUILDKIT_CONTEXT_KEEP_GIT_DIR). @default false */
  keepGitDir?: boolean;
  signal?: AbortSignal;
}

/** A fetched remote context: `root` (the context, inside `dir`) and the temp dir to remove afterwards. */
export interface FetchedContext {
  dir: string;
  root: string;
}

/** Text with the user:password of every URL in it replaced by ***, safe to print. */
export function redactUrl(url: string): string {
  return url.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

function remoteError(url: string, state: string, hint: string, cause?: unknown): KbError {
  return new KbError("CONTEXT", `Cannot open the build context "${redactUrl(url)}": ${state}`, { hint, cause });
}

function checkWord(url: string, what: string, w: string | undefined): string | undefined {
  if (w === undefined || w === "") return undefined;
  if (w.startsWith("-") || /[\s\x00-\x1f\\]/.test(w) || w.includes("..") && what !== "subdirectory") {
    throw remoteError(url, `the ${what} "${w}" is not valid`, "write it like https://host/repo.git#branch:sub/dir");
  }
  return w;
}

/**
 * Recognises a remote context (Docker's and Kaniko's forms): `git://…`, `git@host:…`, `ssh://…`,
 * `https://….git`, `file://….git` and `github.com/…` are git, with `#ref[:subdir]` (or Kaniko's `#ref#commit`);
 * any other `http(s)://…` is a tarball. Returns undefined for local paths.
 * @example parseRemoteContext("https://example.com/app.git#v1:docker") // { kind: "git", url: "https://example.com/app.git", ref: "v1", subdir: "docker" }
 */
export function parseRemoteContext(spec: string): RemoteContext | undefined {
  const hash = spec.indexOf("#");
  let url = hash < 0 ? spec : spec.slice(0, hash);
  const fragment = hash < 0 ? "" : spec.slice(hash + 1);
  if (/^github\.com\//i.test(url)) url = `https://${url}`;
  const isHttp = /^https?:\/\//i.test(url);
  const git = /^(git|ssh|git\+ssh|git\+https?):\/\//i.test(url) || /^[\w.-]+@[\w.-]+:/.test(url) ||
    ((isHttp || /^file:\/\//i.test(url)) && /\.git\/?$/i.test(url)) || /^https:\/\/github\.com\//i.test(url);
  if (!git) {
    if (!isHttp) return undefined;
    if (hash >= 0) throw remoteError(spec, `a tarball URL cannot have a "#" part`, "use #ref:subdir only with git URLs (ending in .git); use --context-sub-path for a tarball");
    return { kind: "tarball", url };
  }
  if (url.startsWith("-")) throw remoteError(spec, "the URL starts with '-'", "pass a git URL");
  const [refPart = "", commit, ...rest] = fragment.split("#");
  if (rest.length) throw remoteError(spec, `too many "#" parts`, "write #ref[:subdir] (Docker) or #ref#commit (Kaniko)");
  const colon = refPart.indexOf(":");
  const ref = checkWord(spec, "ref", colon < 0 ? refPart : refPart.slice(0, colon));
  const subdir = checkWord(spec, "subdirectory", colon < 0 ? undefined : refPart.slice(colon + 1).replace(/^\/+|\/+$/g, ""));
  const c = checkWord(spec, "commit", commit);
  if (c && !/^[0-9a-f]{7,64}$/i.test(c)) throw remoteError(spec, `the commit "${c}" is not a hex commit id`, "write #ref#<commit id> (Kaniko) or #<commit id>");
  return { kind: "git", url: url.replace(/^git\+(?=https?:|ssh:)/i, ""), ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}), ...(c ? { commit: c } : {}) };
}

/** Joins `sub` under `root`; refuses a path (or symlink) that leads outside `root`. */
export async function resolveInside(root: string, sub: string | undefined, what: string): Promise<string> {
  if (!sub) return root;
  const p = path.resolve(root, sub.replace(/^\/+/, ""));
  const real = await fsp.realpath(p).catch(() => undefined);
  const realRoot = await fsp.realpath(root);
  if (!real) throw new KbError("CONTEXT", `Cannot open the build context: ${what} "${sub}" does not exist`, { hint: "check the path inside the repository or archive" });
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new KbError("CONTEXT", `Cannot open the build context: ${what} "${sub}" leads outside the context`, { hint: "name a folder inside the context" });
  }
  if (!(await fsp.stat(real)).isDirectory()) throw new KbError("CONTEXT", `Cannot open the build context: ${what} "${sub}" is not a directory`, { hint: "name a folder" });
  return real;
}

/** Environment for git: never prompts; credentials travel in env vars read by an inline credential helper. */
function gitEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "GIT_SSH_COMMAND", "SSH_AUTH_SOCK", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO"]) {
    if (env[k] !== undefined) out[k] = env[k]!;
  }
  Object.assign(out, { GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "", LC_ALL: "C", GIT_CONFIG_NOSYSTEM: "1" });
  const token = env.GIT_TOKEN;
  const user = env.GIT_USERNAME || (token ? "x-access-token" : "");
  const pass = token || env.GIT_PASSWORD || "";
  if (user || pass) {
    Object.assign(out, {
      KB_GIT_USERNAME: user, KB_GIT_PASSWORD: pass, GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "credential.helper", GIT_CONFIG_VALUE_0: "",
      GIT_CONFIG_KEY_1: "credential.helper",
      GIT_CONFIG_VALUE_1: '!f() { test "$1" = get || exit 0; printf "username=%s\\npassword=%s\\n" "$KB_GIT_USERNAME" "$KB_GIT_PASSWORD"; }; f',
    });
  }
  return out;
}

function git(args: string[], cwd: string, env: Record<string, string>, signal?: AbortSignal): Promise<{ code: number; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd, env, stdio: ["ignore", "ignore", "pipe"], signal });
    let err = "";
    child.stderr.on("data", (d: Buffer) => void (err.length < 16384 && (err += d.toString())));
    child.on("error", (e) => reject((e as NodeJS.ErrnoException).code === "ENOENT"
      ? new KbError("CONTEXT", "Cannot fetch a git context: git is not installed", { hint: "install git (apt-get install git)", cause: e }) : e));
    child.on("close", (code) => resolve({ code: code ?? 1, err }));
  });
}

function gitUrl(r: Extract<RemoteContext, { kind: "git" }>, env: Record<string, string | undefined>): string {
  const method = env.GIT_PULL_METHOD?.toLowerCase();
  // Kaniko reads git://host/repo as https (or http with GIT_PULL_METHOD=http); kb keeps the git protocol unless asked.
  if ((method === "https" || method === "http") && /^git:\/\//i.test(r.url)) return r.url.replace(/^git:/i, `${method}:`);
  return r.url;
}

async function fetchGit(r: Extract<RemoteContext, { kind: "git" }>, dir: string, opts: FetchRemoteOptions): Promise<string> {
  const env = gitEnv(opts.env ?? process.env);
  const url = gitUrl(r, opts.env ?? process.env);
  const run = async (args: string[]) => git(args, dir, env, opts.signal);
  const fail = (what: string, err: string, hint: string) => {
    const last = err.split("\n").map((l) => l.trim()).filter(Boolean).slice(-3).join("; ");
    return remoteError(r.url, `${what}${last ? ` (git: ${redactUrl(last)})` : ""}`, hint);
  };
  for (const args of [["init", "-q"], ["remote", "add", "origin", url]]) {
    const res = await run(args);
    if (res.code !== 0) throw fail("git could not set up a checkout", res.err, "check that git works and the temp dir is writable");
  }
  const want = r.commit ?? r.ref ?? "HEAD";
  let res = await run(["fetch", "-q", "--depth", "1", "--no-tags", "origin", want]);
  if (res.code !== 0 && r.commit) res = await run(["fetch", "-q", "--no-tags", "origin", ...(r.ref ? [r.ref] : [])]);
  if (res.code !== 0) {
    const noRef = /couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i.test(res.err);
    throw noRef
      ? fail(`the ref "${want}" does not exist in the repository`, res.err, `list the refs with \`git ls-remote ${redactUrl(r.url)}\` and write URL#<branch, tag or commit>`)
      : fail("git could not fetch it", res.err, "check the URL, the network and the credentials (GIT_USERNAME/GIT_PASSWORD or GIT_TOKEN, or an ssh key)");
  }
  res = await run(["-c", "advice.detachedHead=false", "checkout", "-q", r.commit ?? "FETCH_HEAD"]);
  if (res.code !== 0) throw fail(`git could not check out "${want}"`, res.err, "check the commit id");
  if (existsSync(path.join(dir, ".gitmodules"))) {
    res = await run(["submodule", "update", "-q", "--init", "--recursive", "--depth", "1"]);
    if (res.code !== 0) throw fail("git could not fetch the submodules", res.err, "check that the submodules' URLs are reachable with the same credentials");
  }
  if (!opts.keepGitDir) await fsp.rm(path.join(dir, ".git"), { recursive: true, force: true });
  return resolveInside(dir, r.subdir, "the subdirectory");
}

async function fetchTarball(url: string, dir: string, signal?: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: "follow" });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw remoteError(url, `the request failed (${(e as Error).message})`, "check the URL and the network", e);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw remoteError(url, `the server answered ${res.status} ${res.statusText}`.trimEnd(), "check the URL (a .tar or .tar.gz file is expected)");
  }
  try {
    await extractTar(decompressStream(res.body), dir, { whiteouts: "keep", chown: false, devices: "skip" });
  } catch (e) {
    if (signal?.aborted) throw e;
    const detail = e instanceof Error ? `: ${e.message}` : "";
    throw remoteError(url, `it is not a safe, readable tar archive${detail}`, "serve a .tar or .tar.gz whose entries stay inside the archive", e);
  }
  return dir;
}

/**
 * Fetches a remote context into a private temp dir: git shallowly (only the ref; `.git` removed unless asked),
 * a tarball streamed through the safe extractor (`../` entries refused). The caller removes `dir`.
 * Credentials come from the environment only and never appear in a URL or a message.
 * @example const { dir, root } = await fetchRemoteContext(parseRemoteContext("https://h/r.git#main:app")!)
 */
export async function fetchRemoteContext(remote: RemoteContext, opts: FetchRemoteOptions = {}): Promise<FetchedContext> {
  const dir = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), "kb-remote-")));
  try {
    const root = remote.kind === "git" ? await fetchGit(remote, dir, opts) : await fetchTarball(remote.url, dir, opts.signal);
    return { dir, root };
  } catch (e) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  }
}
