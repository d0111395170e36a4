// Container mode (Kaniko's model, for pods where no namespace can be made): the stage's layers are applied to
// "/" of this throwaway container, the RUN runs in place, and a stat walk finds what it changed.
// kb's own folder, the store, the context, /proc, /sys, /dev and every mount point are never touched.

import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { KbError } from "../../errors.ts";
import { containerSkipPaths, createContainerRun } from "../../exec/index.ts";
import { extractTar } from "../../layer/index.ts";
import { isCompiledBinary } from "../../runtime.ts";
import { addTiming, type EngineEnv } from "../core/engine-types.ts";
import type { StageLayer, StageState } from "../core/stage-state.ts";

/** diffIDs of the layers applied to "/" right now; undefined until kb first cleared "/" (as Kaniko does). */
let applied: string[] | undefined;

/** Files this process has mapped (its loader and libraries): a base image must not replace them under us. */
async function mappedFiles(): Promise<string[]> {
  const maps = await readFile("/proc/self/maps", "utf8").catch(() => "");
  return [...new Set(maps.split("\n").map((l) => l.split(/\s+/)[5]).filter((p): p is string => !!p && p.startsWith("/") && !p.startsWith("/proc")))];
}

async function skipPaths(env: EngineEnv): Promise<string[]> {
  const exe = process.execPath;
  const own = isCompiledBinary() ? (dirname(exe) === "/" ? exe : dirname(exe)) : join(import.meta.dir, "../../..");
  // /busybox is the shell of the :debug executor image (Kaniko's ignore list keeps it too).
  const busybox = await lstat("/busybox").then(() => ["/busybox"], () => []);
  return containerSkipPaths("/", [env.store.dirs.root, env.context.root, own, ...busybox, ...(await mappedFiles()), ...env.opts.ignorePaths]);
}

const under = (skip: string[]) => (rel: string) => skip.some((s) => rel === s || rel.startsWith(`${s}/`));

/** Removes everything in "/" except the skipped paths and their parents. */
async function wipeRoot(skip: string[], rel = ""): Promise<void> {
  for (const name of await readdir(rel ? `/${rel}` : "/")) {
    const p = rel ? `${rel}/${name}` : name;
    if (skip.includes(p)) continue;
    if (skip.some((s) => s.startsWith(`${p}/`))) {
      if ((await lstat(`/${p}`)).isDirectory()) await wipeRoot(skip, p);
      continue;
    }
    await rm(`/${p}`, { recursive: true, force: true });
  }
}

/** Makes "/" hold exactly the stage's layers, applying only what is missing when it can. */
async function syncRoot(env: EngineEnv, layers: StageLayer[], skip: string[]): Promise<void> {
  const want = layers.map((l) => l.diffId);
  const prefix = applied !== undefined && applied.length <= want.length && applied.every((d, i) => want[i] === d);
  const t0 = performance.now();
  if (!prefix || !applied) {
    await wipeRoot(skip);
    applied = [];
  }
  const done = applied;
  for (const l of layers.slice(done.length)) {
    await extractTar(await l.layer.uncompressed(env.signal), "/", {
      whiteouts: "apply",
      chown: process.getuid?.() === 0,
      devices: "create",
      exclude: under(skip),
      onWarning: (m) => env.sink.emit({ type: "warning", message: m }),
    });
    done.push(l.diffId);
  }
  addTiming(env, "extract", performance.now() - t0);
}

export interface ContainerRunArgs {
  argv: string[];
  env: string[];
  user: { uid: number; gid: number; groups: number[] };
  secrets: { target: string; value: Uint8Array }[];
  stdout: (c: Uint8Array) => void;
  stderr: (c: Uint8Array) => void;
}

/** Runs one RUN in place and returns the diff stream's producer (call after the run). */
export async function runInPlace(env: EngineEnv, st: StageState, a: ContainerRunArgs) {
  const skip = await skipPaths(env);
  // --image-fs-extract-retry: a failed unpack into "/" starts again from a wiped root.
  for (let attempt = 0; ; attempt++) {
    try {
      await syncRoot(env, st.layers, skip);
      break;
    } catch (e) {
      applied = undefined;
      if (env.signal.aborted || attempt >= (env.opts.extractRetries ?? 0)) throw e;
      env.sink.emit({ type: "warning", message: `unpacking layers into / failed (${(e as Error).message}); trying again (${attempt + 1}/${env.opts.extractRetries})` });
    }
  }
  const secretPaths = a.secrets.map((s) => posix.normalize(s.target).slice(1));
  const c = await createContainerRun({ skip: [...skip.map((s) => `/${s}`), ...secretPaths.map((s) => `/${s}`)] });
  for (const s of a.secrets) {
    await mkdir(dirname(s.target), { recursive: true });
    await writeFile(s.target, s.value, { mode: 0o400 });
  }
  try {
    const res = await c.run({ args: a.argv, env: a.env, cwd: st.config.config?.WorkingDir || "/", user: a.user, stdout: a.stdout, stderr: a.stderr, stdin: "null" }, { signal: env.signal, timeoutMs: env.opts.runTimeoutMs });
    return { res, diff: () => c.diff(), commit: (l: StageLayer) => void applied?.push(l.diffId), skip };
  } finally {
    for (const s of a.secrets) await rm(s.target, { force: true });
  }
}

/** RUN --mount kinds container mode can honour: secrets only (there are no mounts without privileges). */
export function checkContainerMounts(types: string[]): void {
  const bad = types.find((t) => t !== "secret");
  if (bad) {
    throw new KbError("SANDBOX", `Cannot use RUN --mount=type=${bad} in container mode: mounts need a mount namespace`, {
      hint: "run kb where user namespaces are allowed (see kb doctor), or drop the mount",
    });
  }
}
