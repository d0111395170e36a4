// RUN: the command in the sandbox over the stage's layers; the overlay upperdir becomes the layer.

import { mkdir, rm, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { KbError } from "../../errors.ts";
import type { Instruction } from "../../dockerfile/index.ts";
import { checkCanRun } from "../../exec/binfmt.ts";
import { hostResolvConf, runResolvConf } from "../../exec/resolv-conf.ts";
import { removeTree, type IdMapping } from "../../helper/index.ts";
import { canMapOwners, openUpperSnapshot } from "../../snapshot/index.ts";
import { mapLowerOwners, markOwnersMapped } from "./rootless-owners.ts";
import { cacheKey, envForKey } from "../core/cache-key.ts";
import { addTiming, type EngineEnv } from "../core/engine-types.ts";
import { adoptUpperDir, lowerDirs } from "../trees/layer-trees.ts";
import { chainId } from "../trees/trees.ts";
import { commitLayer } from "../trees/layers.ts";
import { recall, remember } from "../core/step-cache.ts";
import { stageShell } from "./metadata.ts";
import { PROXY_ARGS } from "../core/plan.ts";
import { prepareRunScript } from "./run-script.ts";
import { prepareMounts, readSecret } from "./run-mounts.ts";
import { checkContainerMounts, runInPlace } from "./container-run.ts";
import { runNetworkFor, sandboxFor } from "../core/sandbox-choice.ts";
import { DEFAULT_PATH, envMap, type StageState } from "../core/stage-state.ts";
import { runText } from "../core/history-text.ts";
import { withMountPoints } from "./implied-parents.ts";
import { stageFsOf } from "../trees/layer-index.ts";
import { resolveAllInStage } from "../trees/resolve-in-stage.ts";
import { resolveStageUser, resolveUserFromTrees } from "./user-db.ts";

type Run = Extract<Instruction, { kind: "RUN" }>;

/**
 * Where the runtime mounts into every RUN. runc creates these mount points in the rootfs when the image lacks them
 * (FROM scratch, distroless), so BuildKit's RUN layer holds /dev, /proc, /sys and /etc (0755 root); the file stubs
 * of /etc/hosts and /etc/resolv.conf are removed by its MountStubsCleaner. moby/buildkit#3455 and #6686 show the
 * /proc and /sys stubs in current BuildKit's layers.
 */
const RUNTIME_DIR_MOUNTS = ["/dev", "/proc", "/sys"];
const RUNTIME_FILE_MOUNTS = ["/etc/hosts", "/etc/resolv.conf"];

/** A RUN's host name, and its line in /etc/hosts: BuildKit's (Docker's builder), which scripts may print or match. */
const RUN_HOSTNAME = "buildkitsandbox";


/** The environment a RUN sees: config Env, then the stage's ARGs (ENV wins), then proxy build args. */
function runEnv(env: EngineEnv, st: StageState): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of PROXY_ARGS) {
    const v = env.plan.buildArgs.get(p);
    if (v !== undefined) m.set(p, v);
  }
  for (const [k, v] of st.args) m.set(k, v);
  for (const [k, v] of envMap(st.config.config)) m.set(k, v);
  if (!m.has("PATH")) m.set("PATH", DEFAULT_PATH);
  return m;
}

export async function runRun(env: EngineEnv, st: StageState, inst: Run, step: number): Promise<boolean> {
  // A long script (a big heredoc) is a file bound into the sandbox, named by digest in the key and history.
  const script = await prepareRunScript(inst, stageShell(st.config.config), env.store.dirs.tmp);
  const { argv, text } = script;
  const vars = runEnv(env, st);
  const network = inst.network === "none" ? "none" : inst.network === "host" ? "host" : env.opts.network; // the requested network keys the cache
  const envNow = envMap(st.config.config);
  const historyArgs = st.declared.map((d) => ({ key: d.key, value: envNow.get(d.key) ?? d.value ?? "" }));
  // A long script is named by digest in the history, as in the key; a short one is shown as BuildKit shows it.
  const historyText = runText(script.history, historyArgs);
  const prepared = await prepareMounts(env, st, inst.mounts).catch(async (e) => {
    await script.cleanup();
    throw e;
  });
  if (script.mount) prepared.mounts.push(script.mount);
  try {
    // ARG values and proxy args are part of the key (not persisted); secrets never are.
    const argsForKey = envForKey([...st.args, ...[...vars].filter(([k]) => PROXY_ARGS.includes(k))]);
    // --add-host is part of the step, as in BuildKit's ExecOp meta: what a RUN resolves may change its output.
    const hostsKey = (env.opts.extraHosts ?? []).map((h) => `${h.host}=${h.ip}`).join(",");
    // So are --ulimit and --shm-size (BuildKit: ExecOp meta ulimits and a /dev/shm tmpfs mount of that size).
    const limitsKey = [...(env.opts.ulimits ?? []).map((u) => `${u.name}=${u.soft}:${u.hard}`), ...(env.opts.shmSize ? [`shm=${env.opts.shmSize}`] : [])].join(",");
    st.key = cacheKey(st.key, text, argsForKey, network, prepared.key, inst.security ?? "", ...(hostsKey ? [hostsKey] : []), ...(limitsKey ? ["limits", limitsKey] : []));
    let layer = await recall(env, st, st.key);
    const cached = !!layer;
    if (!layer) layer = await execute(env, st, inst, step, argv, vars, prepared, script.inPlaceArgv);
    // A RUN that changed nothing still adds its (empty) layer: BuildKit's image has it, and its history says so.
    st.layers.push(layer);
    st.history.push({ created: env.created, created_by: `${historyText} # buildkit`, comment: "buildkit.dockerfile.v0" });
    return cached;
  } finally {
    await prepared.cleanup();
    await script.cleanup();
  }
}

async function execute(
  env: EngineEnv, st: StageState, inst: Run, step: number, argv: string[], vars: Map<string, string>,
  prepared: Awaited<ReturnType<typeof prepareMounts>>, inPlaceArgv?: string[],
) {
  const emulator = await checkCanRun(st.platform, { stage: st.name });
  if (emulator) env.sink.emit({ type: "info", message: `RUN via ${emulator.name} (binfmt_misc: ${emulator.interpreter})` });
  const choice = await sandboxFor(env);
  const userSpec = st.config.config?.User || "0";
  const tail: string[] = [];
  // One streaming decoder per stream: a UTF-8 character split across two chunks stays whole.
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const onOut = (stream: "stdout" | "stderr") => (chunk: Uint8Array) => {
    const t = decoders[stream].decode(chunk, { stream: true });
    for (const line of t.split("\n")) if (line) tail.push(line);
    while (tail.length > 15) tail.shift();
    env.sink.emit({ type: "step-output", stage: st.name, step, stream, text: t });
  };
  // HOME comes from the user's /etc/passwd entry ("/" without one) unless ENV or ARG sets it, as runc does.
  const envFor = (home: string) => [...[...vars].map(([k, v]) => `${k}=${v}`), ...(vars.has("HOME") ? [] : [`HOME=${home}`]), ...prepared.env];
  // Container mode runs in this filesystem: a script file is used where it is, not through a bind.
  if (choice.mode === "container" && inPlaceArgv) argv = inPlaceArgv;
  if (choice.mode === "container") {
    if (env.opts.ulimits?.length || env.opts.shmSize) {
      throw new KbError("SANDBOX", `Cannot apply ${env.opts.ulimits?.length ? "--ulimit" : "--shm-size"} in container mode: RUN runs in this container, with its limits and its /dev/shm`, {
        hint: "set them on the container kb runs in (the pod's or runner's settings), or use --isolation root or rootless",
      });
    }
    const u = await resolveStageUser(env, st, userSpec, "USER");
    return executeInPlace(env, st, inst, argv, envFor(u.home), u, tail, onOut);
  }
  const { sandbox, idMap } = choice;
  const net = runNetworkFor(env, inst);
  const resolv = runResolvConf(await hostResolvConf(env.opts.hostResolvConf ? [env.opts.hostResolvConf] : undefined), net.network);
  const lowers = await lowerDirs(env, st.layers); // timed as "extract" where a tree is made
  await mapLowerOwners(env, st.layers, lowers, idMap);
  const fs = stageFsOf(env.store, st, env.signal);
  const cwd = st.config.config?.WorkingDir || "/";
  const targets = inst.mounts.filter((m) => (m.type === "cache" || m.type === "bind" || m.type === "tmpfs") && m.target).map((m) => posix.resolve(cwd, m.target!));
  // Mount targets are placed in the stage (a symlink on the way followed inside it), not through the host's view.
  const placed = await resolveAllInStage(fs, [...prepared.mounts.map((m) => m.target).filter((t) => !t.startsWith("/dev/")), ...targets]);
  const at = (t: string) => placed.get(t) ?? t;
  const user = await resolveUserFromTrees(lowers, userSpec);
  const envList = envFor(user.home);
  const work = env.store.tempPath("-run");
  const upperParent = join(work, "layer");
  const upperDir = join(upperParent, "root");
  await mkdir(upperDir, { recursive: true });
  await mkdir(join(work, "work"), { recursive: true });
  try {
    const r0 = performance.now();
    const res = await sandbox.run({
      lowerDirs: lowers,
      upperDir,
      workDir: join(work, "work"),
      args: argv,
      env: envList,
      cwd: st.config.config?.WorkingDir || "/",
      user,
      hostname: RUN_HOSTNAME,
      network: net.network,
      pastaPath: net.pastaPath,
      mounts: prepared.mounts.map((m) => ({ ...m, target: at(m.target) })),
      shmSize: env.opts.shmSize,
      ulimits: env.opts.ulimits,
      etc: { hosts: runHosts(env.opts.extraHosts), resolvConf: resolv },
      stdout: onOut("stdout"),
      stderr: onOut("stderr"),
      stdin: "null",
      scratchDir: env.store.dirs.tmp,
    }, { signal: env.signal, timeoutMs: env.opts.runTimeoutMs });
    addTiming(env, "run", performance.now() - r0);
    checkExit(res, tail);
    const s0 = performance.now();
    // Rootless: what the RUN made private is read inside its user namespace, then made private again.
    // What the lower layers show at a path: the tree of the layer whose entry is seen there (lowers are top first).
    const lower = async (rel: string) => {
      const v = await fs.visible(rel);
      return v && v.layer >= 0 ? join(lowers[lowers.length - 1 - v.layer]!, rel) : undefined;
    };
    const { entries } = await openUpperSnapshot(upperDir, { idMapping: idMap, exclude: prepared.exclude.map(at), lower });
    const fileTargets = new Set([...prepared.fileTargets.map(at), ...RUNTIME_FILE_MOUNTS]);
    const points = [...RUNTIME_DIR_MOUNTS, ...RUNTIME_FILE_MOUNTS, ...targets.map(at)];
    const withTargets = withMountPoints(entries, points, async (d) => (await fs.kind(d)) !== undefined, env.mtimeClamp ?? Math.floor(Date.now() / 1000), fileTargets);
    const layer = await commitLayer(env.store, withTargets, env.layer, env.signal);
    addTiming(env, "snapshot+compress", performance.now() - s0);
    await remember(env, st, st.key, layer);
    if (canMapOwners(idMap)) await markOwnersMapped(upperParent);
    await adoptUpperDir(env, chainId([...st.layers, layer].map((l) => l.diffId)), upperParent);
    return layer;
  } finally {
    await removeWork(work, upperDir, idMap);
  }
}

/** The RUN's /etc/hosts: localhost and BuildKit's host name, then each --add-host (Docker's order). */
export function runHosts(extra: { host: string; ip: string }[] = []): string {
  return `127.0.0.1\tlocalhost ${RUN_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra.map((h) => `${h.ip}\t${h.host}\n`).join("")}`;
}

/**
 * Removes a RUN's work dir. After a rootless RUN it may hold directories only the user namespace can enter
 * (a failed apt-get leaves 0700 dirs of _apt): the helper removes those from inside the namespace.
 */
async function removeWork(work: string, upperDir: string, idMap: IdMapping | undefined): Promise<void> {
  await rm(work, { recursive: true, force: true }).catch(() => undefined);
  if (!idMap || !(await stat(work).then(() => true, () => false))) return;
  await removeTree(upperDir, idMap).catch(() => undefined);
  await rm(work, { recursive: true, force: true }).catch(() => undefined);
}

function checkExit(res: { exitCode: number; signal?: string; timedOut?: boolean }, tail: string[]): void {
  if (res.exitCode === 0) return;
  const why = res.timedOut ? "it ran longer than --timeout and was killed" : res.signal ? `it was killed by ${res.signal}` : `it exited with code ${res.exitCode}`;
  throw new KbError("RUN_FAILED", `Cannot finish RUN: ${why}`, {
    hint: tail.length ? `last output:\n    ${tail.join("\n    ")}` : "the command printed nothing",
  });
}

/** Container mode: the RUN runs in "/" of this container; a stat walk gives the layer. */
async function executeInPlace(
  env: EngineEnv, st: StageState, inst: Run, argv: string[], envList: string[], user: { uid: number; gid: number; groups: number[] },
  tail: string[], onOut: (s: "stdout" | "stderr") => (c: Uint8Array) => void,
) {
  checkContainerMounts(inst.mounts.map((m) => m.type));
  const secrets: { target: string; value: Uint8Array }[] = [];
  for (const m of inst.mounts) {
    const id = m.id ?? (m.target ? m.target.split("/").pop()! : "");
    const value = await readSecret(env, id, m.required);
    if (value) secrets.push({ target: m.target ?? `/run/secrets/${id}`, value });
  }
  const r0 = performance.now();
  const run = await runInPlace(env, st, { argv, env: envList, user, secrets, stdout: onOut("stdout"), stderr: onOut("stderr") });
  addTiming(env, "run", performance.now() - r0);
  checkExit(run.res, tail);
  const s0 = performance.now();
  const layer = await commitLayer(env.store, run.diff(), env.layer, env.signal);
  addTiming(env, "snapshot+compress", performance.now() - s0);
  run.commit(layer);
  await remember(env, st, st.key, layer);
  return layer;
}
