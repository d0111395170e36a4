// Opening a build context: a directory (or dir://), a tar or tar.gz file (or tar://), a tar on stdin ("-") or a
// Dockerfile alone on stdin (no context), or a remote one.

import { createReadStream, existsSync, promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { KbError } from "../errors.ts";
import { decompressStream, detectCompression, extractTar, isTarHeader, peekStream, removeOwnTree } from "../layer/index.ts";
import { type IgnoreMatcher, compileIgnore, findDockerignore, parseDockerignore } from "./dockerignore.ts";
import { fetchRemoteContext, parseRemoteContext, resolveInside } from "./remote.ts";

/** An opened context: a directory on disk plus the Dockerfile and .dockerignore that go with it. */
export interface BuildContext {
  /** Real path of the context directory (a private temp dir for tar contexts). */
  root: string;
  dockerfilePath: string;
  /** The .dockerignore in force (an empty matcher when there is none). */
  dockerignore: IgnoreMatcher;
  /** The ignore file used, if any. */
  dockerignorePath?: string;
  /** Removes what openContext created (the temp dir of a tar context); a no-op for directories. */
  cleanup(): Promise<void>;
}

/** Options of openContext. */
export interface OpenContextOptions {
  /** Dockerfile path: relative to the working directory, else to the context. @default "<context>/Dockerfile" */
  dockerfile?: string;
  /** The tar stream read when spec is "-". */
  stdin?: ReadableStream<Uint8Array>;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
  /** A folder inside the context to use as the context (--context-sub-path); works for every kind of context. */
  subPath?: string;
  /** Where remote contexts read GIT_USERNAME, GIT_PASSWORD, GIT_TOKEN. @default process.env */
  env?: Record<string, string | undefined>;
  /** Keep `.git` in a git context. @default false */
  keepGitDir?: boolean;
  signal?: AbortSignal;
}

function contextError(state: string, hint: string, cause?: unknown): KbError {
  return new KbError("CONTEXT", `Cannot open the build context: ${state}`, { hint, cause });
}

async function extractInto(stream: ReadableStream<Uint8Array>, what: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(tmpdir(), "kb-context-"));
  try {
    await extractTar(decompressStream(stream), dir, { whiteouts: "keep", chown: false, devices: "skip" });
  } catch (e) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw contextError(`${what} is not a readable tar archive`, "Pass a directory, a .tar or a .tar.gz file", e);
  }
  return dir;
}

/** Refuses a Dockerfile or .dockerignore that is not a regular file: reading a FIFO (from a context tar) would block forever. */
async function mustBeFile(p: string): Promise<void> {
  const st = await fsp.stat(p).catch(() => undefined);
  if (st && !st.isFile()) throw contextError(`"${p}" is not a regular file`, "The Dockerfile and .dockerignore must be regular files");
}

/**
 * A Dockerfile or .dockerignore that lives in the context follows COPY's rule: a symlink may not lead out of
 * the context. The message names only the file, never where it points nor anything it holds.
 */
async function mustStayInside(root: string, p: string, what: string): Promise<void> {
  const rel = path.relative(root, p);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return; // given with --file from outside the context
  const real = await fsp.realpath(p).catch(() => undefined);
  const realRel = real === undefined ? undefined : path.relative(root, real);
  if (realRel === undefined || realRel.startsWith("..") || path.isAbsolute(realRel)) {
    throw contextError(`${what} "${rel}" is a symbolic link that leads outside the context`,
      `Replace the link with the file itself; like COPY, kb reads nothing outside the context through a link`);
  }
}

/** Most a Dockerfile on standard input may hold (it is read whole). */
const STDIN_DOCKERFILE_LIMIT = 16 << 20;

/** `--file -`: the Dockerfile on standard input, written to a private temp dir (as `docker build -f -`). */
async function dockerfileFromStdin(stdin: ReadableStream<Uint8Array> | undefined): Promise<{ dir: string; file: string }> {
  if (!stdin) throw contextError('"--file -" needs the Dockerfile on standard input', "Pipe the Dockerfile into kb, e.g. kb build -f - . < Dockerfile");
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of stdin as unknown as AsyncIterable<Uint8Array>) {
    size += c.length;
    if (size > STDIN_DOCKERFILE_LIMIT) throw contextError(`the Dockerfile on standard input is larger than ${STDIN_DOCKERFILE_LIMIT >> 20} MiB`, "Pass a Dockerfile of a sane size");
    chunks.push(c);
  }
  const dir = await fsp.mkdtemp(path.join(tmpdir(), "kb-dockerfile-"));
  const file = path.join(dir, "Dockerfile");
  await fsp.writeFile(file, Buffer.concat(chunks));
  return { dir, file };
}

async function locateDockerfile(root: string, given: string | undefined, cwd: string): Promise<string> {
  if (given !== undefined) {
    const fromCwd = path.resolve(cwd, given);
    if (existsSync(fromCwd)) return fromCwd;
    const fromCtx = path.resolve(root, given);
    if (existsSync(fromCtx)) return fromCtx;
    throw contextError(`Dockerfile "${given}" not found`, `Looked at "${fromCwd}" and "${fromCtx}"; pass --file with the right path`);
  }
  for (const name of ["Dockerfile", "dockerfile"]) {
    const p = path.join(root, name);
    if (existsSync(p)) return p;
  }
  throw contextError(`no Dockerfile in "${root}"`, "Add a Dockerfile to the context or pass --file <path>");
}

/**
 * Opens `spec` as a build context: a directory path or `dir://path`; a tar/tar.gz file or `tar://path`,
 * or "-" for a tar on `opts.stdin` (both extracted safely into a private temp dir; a Dockerfile there instead of an
 * archive is built with an empty context, as `docker build - < Dockerfile`); a git URL
 * (`https://h/r.git#ref:subdir`, `git@h:r.git`, `git://`) or an http(s) tarball URL (see remote.ts). Finds the Dockerfile
 * and the .dockerignore (`<Dockerfile>.dockerignore` wins over `<context>/.dockerignore`).
 * @example const ctx = await openContext(".", { dockerfile: "build/Dockerfile" }); try { ... } finally { await ctx.cleanup() }
 */
export async function openContext(spec: string, opts: OpenContextOptions = {}): Promise<BuildContext> {
  const cwd = opts.cwd ?? process.cwd();
  let root: string;
  let temp: string | undefined;
  const remote = spec === "-" ? undefined : parseRemoteContext(spec);
  if (spec === "-" && opts.dockerfile === "-") {
    throw contextError('the context and the Dockerfile cannot both come from standard input ("-" and "--file -")', "Pass the context as a directory or file, or the Dockerfile as a path");
  }
  let stdinDockerfile: { dir: string; file: string } | undefined;
  if (spec === "-") {
    if (!opts.stdin) throw contextError('"-" needs a tar archive or a Dockerfile on standard input', "Pipe a tar into kb (tar -c . | kb build -) or a Dockerfile (kb build - < Dockerfile)");
    const { first, rest } = await peekStream(opts.stdin, 512);
    if (detectCompression(first) !== "none" || isTarHeader(first)) temp = root = await extractInto(rest, "standard input");
    else {
      // Not an archive: a Dockerfile with no context, as `docker build - < Dockerfile` reads it.
      if (opts.dockerfile !== undefined) {
        await rest.cancel();
        throw contextError("standard input holds a Dockerfile and --file names another one", "Drop --file, or pipe a tar of the context instead (Docker: \"ambiguous Dockerfile source\")");
      }
      temp = root = await fsp.mkdtemp(path.join(tmpdir(), "kb-context-"));
      stdinDockerfile = await dockerfileFromStdin(rest).catch(async (e) => {
        await fsp.rm(root, { recursive: true, force: true });
        throw e;
      });
    }
  } else if (remote) {
    const fetched = await fetchRemoteContext(remote, { env: opts.env, keepGitDir: opts.keepGitDir, signal: opts.signal });
    [temp, root] = [fetched.dir, fetched.root];
  } else {
    const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(spec);
    const scheme = m?.[1].toLowerCase();
    if (m && scheme !== "dir" && scheme !== "tar") {
      throw contextError(`context "${spec}" uses the unsupported scheme "${scheme}"`, "Use a directory, dir://path, tar://path, - (tar on stdin), a git URL or an http(s) tarball URL");
    }
    const p = path.resolve(cwd, m ? m[2] : spec);
    const st = await fsp.stat(p).catch(() => undefined);
    if (!st) throw contextError(`"${p}" does not exist`, "Pass an existing directory (or tar file) as the context");
    if (st.isDirectory() && scheme !== "tar") root = await fsp.realpath(p);
    else if (st.isFile() && scheme !== "dir") {
      temp = root = await extractInto(Readable.toWeb(createReadStream(p)) as unknown as ReadableStream<Uint8Array>, `"${p}"`);
    } else throw contextError(`"${p}" is not a ${scheme === "tar" ? "file" : "directory"}`, "Pass a directory or a tar file");
  }
  const cleanup = async () => {
    // An unpacked context keeps the archive's modes: a directory without u+w must not make it stay behind.
    if (temp) await removeOwnTree(temp);
    if (stdinDockerfile) await fsp.rm(stdinDockerfile.dir, { recursive: true, force: true });
  };
  try {
    root = await resolveInside(root, opts.subPath, "the context sub-path");
    if (opts.dockerfile === "-" && !stdinDockerfile) stdinDockerfile = await dockerfileFromStdin(opts.stdin);
    const dockerfilePath = stdinDockerfile?.file ?? (await locateDockerfile(root, opts.dockerfile, cwd));
    if (!stdinDockerfile) await mustStayInside(root, dockerfilePath, "the Dockerfile");
    await mustBeFile(dockerfilePath);
    const ignorePath = findDockerignore(root, dockerfilePath);
    if (ignorePath) await mustStayInside(root, ignorePath, "the .dockerignore");
    if (ignorePath) await mustBeFile(ignorePath);
    const patterns = ignorePath ? parseDockerignore(await fsp.readFile(ignorePath, "utf8"), ignorePath) : [];
    return { root, dockerfilePath, dockerignore: compileIgnore(patterns), dockerignorePath: ignorePath, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
