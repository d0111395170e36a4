// ADD of http(s) URLs (checksum verified, Last-Modified kept) and git repositories (shallow clone of a ref).

import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { promisify } from "node:util";
import { FetchError, ofetch } from "ofetch";
import { KbError } from "../../errors.ts";
import type { Instruction } from "../../dockerfile/index.ts";
import { isDigest, type Digest } from "../../image/types.ts";
import type { TarInput } from "../../layer/index.ts";
import { walkContext, compileIgnore } from "../../context/index.ts";
import { toTarInputs, destPath, type EntryOptions, type Placed } from "./copy-entries.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import { IDLE_HINT, IdleTimeoutError, idleBody } from "../../registry/idle-body.ts";

const run = promisify(execFile);

export const isUrlSource = (s: string) => /^https?:\/\//i.test(s) && !isGitSource(s);
export const isGitSource = (s: string) => /^git@|^git:\/\/|^ssh:\/\/|\.git(#.*)?$/.test(s) || /^https?:\/\/[^#]+\.git(#|$)/.test(s);

export interface RemotePrep {
  key: string;
  /** Removes clones; call it whether or not entries() was used. */
  cleanup(): Promise<void>;
  entries(destRel: string, destIsDir: boolean, o: EntryOptions): AsyncGenerator<TarInput>;
}

type Add = Extract<Instruction, { kind: "ADD" }>;

interface Fetched { digest: Digest; size: number; name: string; mtime: number }

/** Largest ADD <url> body unless --max-download / KB_MAX_DOWNLOAD say otherwise. */
export const DEFAULT_MAX_DOWNLOAD = 10 * 2 ** 30;

const tooLarge = (url: string, limit: number, what: string) =>
  new KbError("BUILD", `Cannot ADD "${url}": ${what}, more than the download limit of ${limit} bytes`, {
    hint: "Raise the limit with --max-download SIZE (or KB_MAX_DOWNLOAD), or check the URL",
  });

function capTransform(url: string, limit: number): TransformStream<Uint8Array, Uint8Array> {
  let n = 0;
  return new TransformStream({
    transform(chunk, ctl) {
      n += chunk.length;
      if (n > limit) throw tooLarge(url, limit, `the server sent ${n} bytes and more`);
      ctl.enqueue(chunk);
    },
  });
}

async function fetchUrl(env: EngineEnv, url: string, checksum?: string): Promise<Fetched> {
  if (checksum && !isDigest(checksum)) {
    throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot use ADD --checksum "${checksum}": expected sha256:<64 hex>`);
  }
  // ofetch retries connection errors and 408/429/5xx (twice, 500 ms apart) and throws on other statuses.
  const res = await ofetch.raw(url, { responseType: "stream", signal: env.signal, retry: 2, retryDelay: 500 }).catch((e) => {
    const status = e instanceof FetchError ? e.statusCode : undefined;
    throw new KbError("BUILD", `Cannot ADD "${url}": ${status ? `the server answered ${status} ${e.statusMessage ?? ""}`.trim() : (e as Error).message}`, {
      cause: e, hint: status === 404 ? "check the URL" : "check the URL and the network",
    });
  });
  if (!res._data) throw new KbError("BUILD", `Cannot ADD "${url}": the server sent no body`);
  const limit = env.opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD;
  const declared = Number(res.headers.get("content-length") ?? NaN);
  const body = res._data as ReadableStream<Uint8Array>;
  if (declared > limit) {
    await body.cancel().catch(() => {});
    throw tooLarge(url, limit, `it declares ${declared} bytes`);
  }
  // Bounded in time (a byte every KB_REGISTRY_TIMEOUT) and in size: a stalled or endless body ends in an error,
  // and store.put removes its temp file, so nothing is left in the store.
  const guarded = idleBody(body, url).pipeThrough(capTransform(url, limit));
  const stored = await env.store.put(guarded, { expected: checksum as Digest | undefined, signal: env.signal }).catch((e) => {
    if (e instanceof KbError && e.code === "BLOB_DIGEST_MISMATCH") e.message = `Cannot ADD "${url}": its content does not match --checksum=${checksum}`;
    if (e instanceof IdleTimeoutError) throw new KbError("BUILD", `Cannot ADD "${url}": ${e.message}`, { hint: IDLE_HINT, temporary: true, cause: e });
    throw e;
  });
  const lm = res.headers.get("last-modified");
  const mtime = lm ? Math.floor(Date.parse(lm) / 1000) : 0;
  const name = posix.basename(new URL(url).pathname) || "download";
  return { ...stored, name, mtime: Number.isFinite(mtime) ? mtime : 0 };
}

async function cloneGit(env: EngineEnv, spec: string, keepGitDir: boolean): Promise<{ dir: string; commit: string; cleanup: () => Promise<void> }> {
  const [url, frag = ""] = spec.split("#", 2) as [string, string?];
  const [ref, sub] = frag.split(":", 2);
  await run("git", ["--version"]).catch(() => {
    throw new KbError("BUILD", `Cannot ADD "${url}": git is not installed`, { hint: "install git (apt-get install git) or ADD a tarball instead" });
  });
  const tmp = await mkdtemp(join(tmpdir(), "kb-git-"));
  const args = ["clone", "--depth", "1", "--recurse-submodules", "--quiet", ...(ref ? ["--branch", ref] : []), url, join(tmp, "repo")];
  await run("git", args, { env: { ...process.env, GIT_TERMINAL_PROMPT: "0" }, signal: env.signal }).catch(async (e) => {
    await rm(tmp, { recursive: true, force: true });
    throw new KbError("BUILD", `Cannot ADD "${url}"${ref ? ` at "${ref}"` : ""}: git clone failed`, { cause: new Error(String((e as { stderr?: string }).stderr ?? e).trim()), hint: "check the repository URL and that the ref exists" });
  });
  const { stdout } = await run("git", ["-C", join(tmp, "repo"), "rev-parse", "HEAD"]);
  if (!keepGitDir) await rm(join(tmp, "repo", ".git"), { recursive: true, force: true });
  const dir = sub ? join(tmp, "repo", posix.normalize(`/${sub}`)) : join(tmp, "repo");
  await stat(dir).catch(() => {
    throw new KbError("BUILD", `Cannot ADD "${spec}": the repository has no "${sub}"`);
  });
  return { dir, commit: stdout.trim(), cleanup: () => rm(tmp, { recursive: true, force: true }) };
}

/** Downloads/clones every remote source once, giving the cache key part and a producer of entries. */
export async function addRemoteSources(env: EngineEnv, inst: Add, sources: string[]): Promise<RemotePrep> {
  const urls: Fetched[] = [];
  const gits: Awaited<ReturnType<typeof cloneGit>>[] = [];
  for (const s of sources) {
    if (isGitSource(s)) gits.push(await cloneGit(env, s, inst.keepGitDir));
    else urls.push(await fetchUrl(env, s, inst.checksum));
  }
  const key = [...urls.map((u) => `${u.name}\0${u.digest}\0${u.mtime}`), ...gits.map((g) => g.commit)].join("\0");
  return {
    key,
    cleanup: async () => {
      for (const g of gits) await g.cleanup();
    },
    async *entries(destRel, destIsDir, o) {
      {
        for (const u of urls) {
          const mtime = o.mtimeClamp !== undefined ? Math.min(u.mtime, o.mtimeClamp) : u.mtime;
          const path = destIsDir ? destPath(destRel, u.name) : destRel;
          const mode = o.chmod ? o.chmod(0o600, false) & 0o7777 : 0o600;
          yield { entry: { path, type: "file", mode, uid: o.uid, gid: o.gid, size: u.size, mtime }, body: await env.store.open(u.digest) };
        }
        for (const g of gits) {
          const noIgnore = compileIgnore([]);
          async function* placed(): AsyncGenerator<Placed> {
            for await (const e of walkContext(g.dir, noIgnore)) if (e.path !== ".") yield { entry: e, dest: destPath(destRel, e.path) };
          }
          yield* toTarInputs(placed(), o);
        }
      }
    },
  };
}
