// COPY and ADD: sources from the context, a stage, an image, a heredoc, a URL or a git repository, into one layer.

import { posix } from "node:path";
import { KbError } from "../../errors.ts";
import type { Instruction } from "../../dockerfile/index.ts";
import { resolveSources, walkSource, hashEntryFile, hashSources, SourcesDigest, type ResolvedSource, type SourceEntry } from "../../context/index.ts";
import { parseChmod, type ModeFn } from "./chmod.ts";
import { cacheKey } from "../core/cache-key.ts";
import { toTarInputs, destPath, type Placed } from "./copy-entries.ts";
import { addRemoteSources, isGitSource, isUrlSource, type RemotePrep } from "./add-remote.ts";
import { heredocDigest, heredocSources } from "./copy-heredoc.ts";
import { addTiming, type EngineEnv } from "../core/engine-types.ts";
import { stageFsOf } from "../trees/layer-index.ts";
import { resolveInStage } from "../trees/resolve-in-stage.ts";
import { prepareLayerTrees } from "../trees/layer-trees.ts";
import { sandboxFor } from "../core/sandbox-choice.ts";
import { commitLayer } from "../trees/layers.ts";
import { recall, remember } from "../core/step-cache.ts";
import { copyFromRoot, type CopyRoot } from "./copy-from.ts";
import { unpackArchiveEntries, isLocalArchive } from "./add-archive.ts";
import type { StageState } from "../core/stage-state.ts";
import { resolveStageOwner } from "./user-db.ts";
import { isStandardDir } from "./workdir.ts";
import { stageDirs, withImpliedParents } from "./implied-parents.ts";
import { mergedOwners } from "./rootless-owners.ts";
import { isRoot } from "../trees/trees.ts";
import type { TarInput } from "../../layer/index.ts";

type CopyLike = Extract<Instruction, { kind: "COPY" | "ADD" }>;


function flagsText(inst: CopyLike): string {
  const f: string[] = [];
  if (inst.kind === "COPY" && inst.from) f.push(`--from=${inst.from}`);
  if (inst.kind === "COPY" && inst.parents) f.push("--parents");
  if (inst.chown) f.push(`--chown=${inst.chown}`);
  if (inst.chmod) f.push(`--chmod=${inst.chmod}`);
  if (inst.link) f.push("--link");
  for (const e of inst.exclude) f.push(`--exclude=${e}`);
  if (inst.kind === "ADD" && inst.checksum) f.push(`--checksum=${inst.checksum}`);
  if (inst.kind === "ADD" && inst.keepGitDir) f.push("--keep-git-dir");
  return f.join(" ");
}

/** Runs COPY/ADD; returns true on a cache hit. */
export async function runCopy(env: EngineEnv, st: StageState, inst: CopyLike, _step: number): Promise<boolean> {
  const workdir = st.config.config?.WorkingDir || "/";
  const destRaw = inst.dest;
  const dest = posix.resolve(workdir, destRaw || ".");
  const destIsDirSyntax = destRaw.endsWith("/") || destRaw === "." || destRaw === "" || destRaw.endsWith("/.");
  const owner = inst.chown ? await resolveStageOwner(env, st, inst.chown, "--chown", inst.location.startLine) : { uid: 0, gid: 0 };
  const chmod = inst.chmod ? parseChmod(inst.chmod) : undefined;
  const remote = inst.sources.filter((s) => isUrlSource(s) || isGitSource(s));
  const local = inst.sources.filter((s) => !isUrlSource(s) && !isGitSource(s));
  if (inst.kind === "COPY" && remote.length) {
    throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot COPY "${remote[0]}": source can't be a URL or git ref for COPY`, { hint: "use ADD for URLs and git repositories" });
  }
  if (inst.kind === "ADD" && inst.checksum && (local.length || remote.length !== 1)) {
    throw new KbError("DOCKERFILE_INSTRUCTION", "Cannot use ADD --checksum: it needs exactly one http(s) or git source");
  }

  // Where local sources come from.
  const from = inst.kind === "COPY" ? inst.from : undefined;
  const root: CopyRoot = from
    ? await copyFromRoot(env, st, from, local, inst.kind === "COPY" && inst.parents)
    : { dir: env.context.root, matcher: env.context.dockerignore };
  try {
    return await copyFrom(env, st, inst, root, { local, remote, dest, destIsDirSyntax, owner, chmod });
  } finally {
    await root.cleanup?.();
  }
}

interface CopyInputs {
  local: string[];
  remote: string[];
  dest: string;
  destIsDirSyntax: boolean;
  owner: { uid: number; gid: number };
  chmod?: ModeFn;
}

async function copyFrom(env: EngineEnv, st: StageState, inst: CopyLike, root: CopyRoot, i: CopyInputs): Promise<boolean> {
  const { local, remote, dest, destIsDirSyntax, owner, chmod } = i;
  const from = inst.kind === "COPY" ? inst.from : undefined;
  // "hash sources" times the walk and the hashing only: making a stage's tree (COPY --from, the destination
  // check) is timed as "extract" where it happens.
  let hashMs = 0;
  const h0 = performance.now();
  const resolved = local.length
    ? await resolveSources(root.dir, local, { matcher: root.matcher, excludes: inst.exclude, parents: inst.kind === "COPY" && inst.parents, chroot: from !== undefined })
    : [];
  hashMs += performance.now() - h0;
  const sourceCount = resolved.length + remote.length + inst.sourceContents.length;
  // A destination is a directory when it says so, when there are several sources, or when it exists as one.
  let destIsDir = destIsDirSyntax || sourceCount > 1 || resolved.some((r) => r.entry.type === "dir");
  if (!destIsDir && dest !== "/") {
    const known = [...st.createdDirs].some((d) => d === dest);
    // A stage that RUNs needs its layer trees anyway: making them now indexes the layers in the same pass
    // (instead of reading a large base once for the index and again for the tree).
    if (!known && (await stageRunsOnTrees(env, st))) await prepareLayerTrees(env, st.layers);
    const fs = stageFsOf(env.store, st, env.signal);
    destIsDir = known || (await fs.kind(await resolveInStage(fs, dest))) === "dir";
  }
  const remotePrep = remote.length ? await addRemoteSources(env, inst as Extract<CopyLike, { kind: "ADD" }>, remote) : undefined;
  const sourcesText = [...inst.sources, ...inst.sourceContents.map((s) => `<<${s.path}`)].join(" ");
  const text = `${inst.kind} ${flagsText(inst)} ${sourcesText} ${dest}`.replace(/\s+/g, " ");
  // History shows sources and the destination as written, without flags (BuildKit's dispatchCopy commit message).
  const historyText = `${inst.kind} ${sourcesText} ${inst.dest}`.replace(/\s+/g, " ");
  const heredocKey = heredocDigest(inst.sourceContents);
  const step = [text, owner.uid, owner.gid, destIsDir ? "dir" : "file"] as const;
  // The same COPY over the same parent, whatever its sources hold: a rebuild reuses the unchanged members.
  const slot = cacheKey(st.key, "layer-slot", ...step);
  const parentKey = st.key;
  const keyOf = (contentHash: string) => cacheKey(parentKey, ...step, contentHash, remotePrep?.key, heredocKey, from ? root.key : undefined);
  // A COPY --from root is a view or merged tree in the store: its path names fixed content and its files are
  // never rewritten, so the memo (path, size, mtime, inode, ctime) is as safe there as for the context.
  let key: string | undefined;
  if (!(await readsOnce(env, inst, slot))) {
    const h1 = performance.now();
    key = keyOf(await hashSources(resolved, { memo: env.hashMemo, signal: env.signal }));
    hashMs += performance.now() - h1;
    st.key = key;
  }
  addTiming(env, "hash sources", hashMs);

  try {
    return await commitCopy(env, st, inst, { resolved, destIsDir, dest, owner, chmod, remotePrep, historyText, root, slot, key, keyOf });
  } finally {
    await remotePrep?.cleanup();
  }
}

/** The record that says a COPY slot (the instruction over its parent) was built in this store before. */
const builtKey = (slot: string) => cacheKey(slot, "copy-slot-built-v1");

/**
 * Whether this COPY can only miss the cache, so its sources are hashed while they are tarred (one read of each file,
 * not a hashing pass and then the tar's): no --cache-repo to hit in, and no build of this slot in the store (or
 * --no-cache). A record lost to GC only costs the work: the key is still looked up once the layer is made.
 */
async function readsOnce(env: EngineEnv, inst: CopyLike, slot: string): Promise<boolean> {
  if (inst.kind !== "COPY" || env.opts.cacheRepo) return false;
  if (env.opts.noCache) return true;
  return (await env.store.cache.get(builtKey(slot)).catch(() => undefined)) === undefined;
}

/**
 * Whether the stage's per-layer trees will be extracted in this build: it has a RUN and RUN runs on those trees
 * (container mode runs in place in / and never makes them).
 */
async function stageRunsOnTrees(env: EngineEnv, st: StageState): Promise<boolean> {
  const runs = env.plan.stages.find((p) => p.stage.index === st.index)?.stage.instructions.some((i) => i.kind === "RUN") ?? false;
  return runs && (await sandboxFor(env)).mode !== "container";
}

/**
 * With --chown, the directories COPY creates on the way to the destination belong to that owner (BuildKit's
 * MkdirAll with the chown). Only missing ones: existing parents keep theirs, so this asks the stage's layers.
 */
async function createdParents(env: EngineEnv, st: StageState, dir: string, owner: { uid: number; gid: number }): Promise<TarInput[]> {
  const fs = stageFsOf(env.store, st, env.signal);
  const out: TarInput[] = [];
  const parts = dir.split("/").filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join("/");
    if (isStandardDir(p) || st.createdDirs.has(`/${p}`) || (await fs.kind(p)) !== undefined) continue;
    out.push({ entry: { path: p, type: "dir", mode: 0o755, uid: owner.uid, gid: owner.gid, size: 0, mtime: env.mtimeClamp ?? Math.floor(Date.now() / 1000) } });
  }
  return out;
}

interface CopyPlan {
  resolved: ResolvedSource[];
  destIsDir: boolean;
  dest: string;
  owner: { uid: number; gid: number };
  chmod?: ModeFn;
  remotePrep?: RemotePrep;
  historyText: string;
  root: CopyRoot;
  slot: string;
  /** The step's cache key, or undefined when the sources are hashed while the layer is made (readsOnce). */
  key?: string;
  keyOf(contentHash: string): string;
}

async function commitCopy(env: EngineEnv, st: StageState, inst: CopyLike, p: CopyPlan): Promise<boolean> {
  const { resolved, destIsDir, owner, chmod, remotePrep, historyText } = p;
  let layer = p.key ? await recall(env, st, p.key) : undefined;
  const cached = !!layer;
  const digest = p.key ? undefined : new SourcesDigest(env.hashMemo);
  if (!layer) {
    // COPY --from keeps the source's owners unless --chown (Docker, moby#38599); the context's become 0:0.
    // A rootless tree holds the caller's ids, not the image's, so only root can keep them.
    // Rootless, the extracted tree holds the caller's ids: the owners come from the source layers' tars instead.
    const keepOwners = inst.kind === "COPY" && !!inst.from && !inst.chown;
    const ownerOf = keepOwners && !isRoot() && p.root.layers ? await mergedOwners(env, p.root.layers, p.root.dir) : undefined;
    const opts = { uid: owner.uid, gid: owner.gid, chmod, mtimeClamp: env.mtimeClamp, keepOwners, hashContent: digest !== undefined };
    // The layer index is needed below: in a stage that RUNs, make the trees now, which index the layers in the
    // same pass (as copyFrom does), instead of reading a large base once here and again for the RUN's trees.
    if (p.dest !== "/" && (await stageRunsOnTrees(env, st))) await prepareLayerTrees(env, st.layers);
    const fs = stageFsOf(env.store, st, env.signal);
    // Written where Docker writes it: through the image's symlinks (`COPY app /bin/` on Debian is usr/bin/app).
    const dest = p.dest === "/" ? "/" : await resolveInStage(fs, p.dest);
    const destRel = dest.slice(1);
    const destKind = isStandardDir(destRel) || st.createdDirs.has(dest) ? "dir" : await fs.kind(destRel);
    if (destIsDir && destKind === "other") {
      throw new KbError("BUILD", `Cannot copy into "${inst.dest}": "${dest}" is a file in the image, not a directory`, {
        hint: "copy to a path below a directory, or name the file itself as the destination (without a trailing /)",
      });
    }
    // A wildcard that matched nothing copies nothing and makes no directory (BuildKit's AllowEmptyWildcard).
    const copiesSomething = resolved.length > 0 || remotePrep !== undefined || inst.sourceContents.length > 0;
    const parents = inst.chown && copiesSomething ? await createdParents(env, st, destIsDir ? dest : posix.dirname(dest), owner) : [];
    const destExists = destKind !== undefined;
    // A directory the stage has (a WORKDIR made it, owned by USER) keeps its owner and mode.
    const dirEntry = destIsDir && !destExists && copiesSomething && !resolved.some((r) => r.entry.type === "dir") && !parents.some((p) => p.entry.path === destRel)
      ? [{ entry: { path: destRel, type: "dir" as const, mode: 0o755, uid: owner.uid, gid: owner.gid, size: 0, mtime: env.mtimeClamp ?? Math.floor(Date.now() / 1000) } }]
      : [];
    const extract = inst.kind === "ADD";
    // ADD unpacks the local sources that are tar archives (plain or compressed); each is looked at once.
    const archives = new Set<ResolvedSource>();
    if (extract) for (const r of resolved) if (r.entry.type !== "dir" && (await isLocalArchive(r.entry.absPath))) archives.add(r);
    // The destination is placed once: by the stage, by the --chown parents made for it, or by the copy.
    let destDirPlaced = destKind === "dir" || parents.some((p) => p.entry.path === destRel);
    /** Where one walked entry goes, or undefined for the destination directory when it is already placed. */
    async function place(e: SourceEntry, n: number, isDir: boolean): Promise<Placed | undefined> {
      const target = isDir || destIsDir ? destPath(destRel, e.destRel) : destRel;
      // The destination directory itself keeps its mode and owner when the stage has it (BuildKit's copier
      // leaves an existing target directory's metadata alone: `COPY . .` into a user's WORKDIR keeps it the
      // user's), and is created 0755 (not with the source directory's mode) otherwise, as Docker does.
      if (target === destRel && e.type === "dir") {
        if (destDirPlaced) return undefined;
        destDirPlaced = true;
        // Made before the copy (BuildKit's MkdirAll): --chmod does not apply to it, and its time is now.
        return { entry: { ...e, mode: (e.mode & ~0o7777) | 0o755, uid: owner.uid, gid: owner.gid, mtimeMs: Date.now() }, dest: target, madeForCopy: true };
      }
      // A directory over a symlink or file of the image would hide what the link leads to (BuildKit's copier:
      // "cannot copy to non-directory"); a file over one replaces it, as there.
      if (e.type === "dir" && (await fs.kind(target)) === "other") {
        throw new KbError("BUILD", `Cannot copy the directory "${e.destRel}" to "/${target}": that is a symlink or file in the image, not a directory`, {
          hint: "Docker refuses it too (\"cannot copy to non-directory\"); copy below the link's target instead (on a merged-/usr image: /usr/bin for /bin, /usr/lib for /lib)",
        });
      }
      if (!ownerOf) return { entry: e, dest: target, source: n };
      const [uid, gid] = ownerOf(e.absPath);
      return { entry: { ...e, uid, gid }, dest: target, source: n };
    }
    async function* placed(): AsyncGenerator<Placed> {
      for (const [n, r] of resolved.entries()) {
        if (archives.has(r)) continue;
        digest?.source(n);
        for await (const e of walkSource(r)) {
          const out = await place(e, n, r.entry.type === "dir");
          if (out) yield out;
          // The tar has read the file by now (it asks for the next entry only after a body's last byte); a file it
          // did not read is hashed here, so the digest is hashSources' in every case.
          if (e.type === "file") digest?.entry(e, out?.contentSha?.() ?? (await hashEntryFile(e, env.signal)));
          else digest?.entry(e);
        }
      }
    }
    async function* all(): AsyncGenerator<TarInput> {
      yield* parents;
      yield* dirEntry;
      yield* toTarInputs(placed(), opts);
      for (const r of archives) yield* unpackArchiveEntries(r.entry.absPath, destRel, opts);
      yield* heredocSources(inst.sourceContents, destRel, destIsDir, opts);
      if (remotePrep) yield* remotePrep.entries(destRel, destIsDir, opts);
    }
    const c0 = performance.now();
    const mtime = env.mtimeClamp ?? Math.floor(Date.now() / 1000);
    // COPY --link is a layer of its own (BuildKit: merged over the stage), so it lists no directory of the stage.
    const entries = withImpliedParents(all(), stageDirs(fs, st.createdDirs), mtime, !inst.link);
    layer = await commitLayer(env.store, entries, { ...env.layer, reuseSlot: p.slot }, env.signal);
    addTiming(env, "layer (tar+compress)", performance.now() - c0);
    if (digest) {
      st.key = p.keyOf(digest.digest());
      // A build this store had but whose slot record is gone: its layer stays the step's (the same image as then).
      layer = (await recall(env, st, st.key)) ?? layer;
    }
    await remember(env, st, st.key, layer);
    await env.store.cache.put(builtKey(p.slot), { kind: "copy-slot-built", data: {}, refs: [] }).catch(() => undefined);
  }
  st.layers.push(layer);
  st.history.push({ created: env.created, created_by: `${historyText} # buildkit`, comment: "buildkit.dockerfile.v0" });
  return cached;
}
