// What a build's context was, for provenance: a git commit (with its remote), a tarball's digest, or a URL.

import { spawnSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createHash } from "node:crypto";

/** One resolved dependency of SLSA provenance v1. */
export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
  annotations?: Record<string, string>;
}

/** sha256 of a file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** A URL with any user:password removed. */
export const redactUrl = (u: string) => u.replace(/\/\/[^/@\s]*@/, "//");

function git(dir: string, args: string[]): string | undefined {
  const r = spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", timeout: 10_000, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * The context as a resolved dependency: a directory inside a git work tree gives its HEAD commit (and the
 * origin URL, and "dirty" when it has changes); a tar file its sha256; a remote URL itself (with the commit
 * when the URL names one). Undefined when nothing identifies it (stdin).
 */
export async function contextDependency(spec: string): Promise<ResourceDescriptor | undefined> {
  if (spec === "-") return undefined;
  if (/^[a-z+]+:\/\//i.test(spec) && !/^(dir|tar):\/\//.test(spec)) {
    const commit = /#(?:[^#]*#)?([0-9a-f]{40})$/i.exec(spec)?.[1];
    return { uri: redactUrl(spec), digest: commit ? { sha1: commit } : {} };
  }
  const path = spec.replace(/^(dir|tar):\/\//, "");
  const st = await stat(path).catch(() => undefined);
  if (!st) return undefined;
  if (st.isFile()) return { name: "context", uri: `file:${path}`, digest: { sha256: await fileSha256(path) } };
  const commit = git(path, ["rev-parse", "HEAD"]);
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const origin = git(path, ["config", "--get", "remote.origin.url"]);
  const dirty = (git(path, ["status", "--porcelain", "--untracked-files=no", "."]) ?? "") !== "";
  return { name: "context", ...(origin ? { uri: `git+${redactUrl(origin)}` } : {}), digest: { [commit.length === 40 ? "gitCommit" : "sha256"]: commit }, ...(dirty ? { annotations: { dirty: "true" } } : {}) };
}
