// RUN --mount: cache, bind, tmpfs, secret and ssh mounts turned into sandbox mounts (never into the layer).

import { createHash } from "node:crypto";
import { chown, cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { resolveScoped } from "../../context/index.ts";
import { KbError } from "../../errors.ts";
import type { Mount } from "../../dockerfile/index.ts";
import type { SandboxMount } from "../../exec/index.ts";
import type { EngineEnv } from "../core/engine-types.ts";
import { mergedTree } from "../trees/stage-view.ts";
import type { StageState } from "../core/stage-state.ts";

export interface PreparedMounts {
  mounts: SandboxMount[];
  env: string[];
  /** Container paths to leave out of the snapshot. */
  exclude: string[];
  /** Targets of binds whose source is a file: their mount point is a file stub, which the layer does not keep. */
  fileTargets: string[];
  /** What of the mounts goes into the cache key (never secret contents). */
  key: string;
  cleanup(): Promise<void>;
}

/** Takes a store lock and keeps it until the returned function is called; undefined when busy past `timeoutMs`. */
async function holdLock(env: EngineEnv, name: string, timeoutMs?: number): Promise<(() => void) | undefined> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  return new Promise((resolve, reject) => {
    env.store
      .withLock(name, async () => {
        resolve(release);
        await held;
      }, { timeoutMs: timeoutMs ?? 600_000, signal: env.signal })
      .catch((e) => (timeoutMs === 0 ? resolve(undefined) : reject(e)));
  });
}

/** The bytes of `--secret id=ID` (a file or an environment variable); undefined when absent and not required. */
export async function readSecret(env: EngineEnv, id: string, required: boolean): Promise<Uint8Array | undefined> {
  const spec = env.opts.secrets.find((s) => s.id === id);
  let value: Uint8Array | undefined;
  if (spec?.src) value = await readFile(spec.src).catch(() => { throw new KbError("BUILD", `Cannot read secret "${id}" from its file`, { hint: "check the src= path of --secret" }); });
  else if (spec?.env && process.env[spec.env] !== undefined) value = new TextEncoder().encode(process.env[spec.env]!);
  if (value === undefined && required) throw new KbError("BUILD", `Cannot mount secret "${id}": it was not given`, { hint: `pass --secret id=${id},src=FILE or id=${id},env=VAR` });
  return value;
}

/**
 * The host path of a mount's `source` in the stage named by `from`, or in the build context without `from`. Its
 * symlinks are resolved here, inside the stage (as BuildKit does) or the context, never on the host (`ln -s /etc
 * /leak` bound /etc of the host): the helper mounts the path with the host's view of the file system.
 */
async function mountSource(env: EngineEnv, m: Mount, what: string) {
  let root = env.context.root;
  if (m.from) {
    const idx = env.plan.stages.find((s) => s.stage.name === m.from!.toLowerCase() || String(s.stage.index) === m.from)?.stage.index;
    if (idx === undefined) throw new KbError("BUILD", `Cannot ${what} from "${m.from}": no stage has that name`);
    root = await mergedTree(env, (await env.stageResult(idx)).layers);
  }
  const rel = posix.normalize(`/${m.source ?? "/"}`).slice(1) || ".";
  const found = await resolveScoped(root, rel, true, m.source ?? "/", m.from !== undefined);
  if (!found) {
    throw new KbError("BUILD", `Cannot ${what} "${m.source ?? "/"}" from ${m.from ? `stage "${m.from}"` : "the build context"}: it does not exist there`, {
      hint: "check the source path; it is relative to the root of the stage or context",
    });
  }
  return found;
}

/** Prepares every --mount of a RUN. Secrets are written to a private temp dir, bound read-only, removed after. */
export async function prepareMounts(env: EngineEnv, st: StageState, mounts: Mount[]): Promise<PreparedMounts> {
  const out: SandboxMount[] = [];
  const extraEnv: string[] = [];
  const exclude: string[] = [];
  const keyParts: string[] = [];
  const temps: string[] = [];
  const releases: (() => void)[] = [];
  const fileTargets: string[] = [];
  const workdir = st.config.config?.WorkingDir || "/";
  const targetOf = (m: Mount, dflt?: string) => {
    const t = m.target ?? dflt;
    if (!t) throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot use --mount=${m.raw}: it needs a target`, { hint: "add target=/path" });
    const abs = posix.resolve(workdir, t);
    if (abs === "/") throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot use --mount=${m.raw}: the target cannot be /`);
    return abs;
  };
  for (const m of mounts) {
    switch (m.type) {
      case "cache": {
        const target = targetOf(m);
        const id = m.id ?? target;
        // A cache is shared by the RUNs that mount the same id with the same base: BuildKit keys a cache that starts
        // from something (from=/source=, or the directory uid/gid/mode make) by id and that base, so `target=/c` with
        // mode=0750 and a plain `target=/c` are two caches there, and here.
        const base = [m.from ?? "", m.source ?? "", m.uid ?? "", m.gid ?? "", m.mode ?? ""].join("\0");
        const name = createHash("sha256").update(`${id}\0${base}`).digest("hex").slice(0, 32);
        let dir = join(env.store.dirs.root, "cache-mounts", name);
        if (!(await stat(dir).then(() => true, () => false))) {
          if (m.from) {
            // A new cache starts as a copy of `source` in the stage named by `from` (BuildKit: "a base of the cache
            // mount"); without `from` it starts empty, with the given mode and owner.
            const seed = await mountSource(env, m, "cache-mount");
            const tmp = `${dir}.seed-${process.pid}`;
            await mkdir(join(dir, ".."), { recursive: true });
            await cp(seed.abs, tmp, { recursive: true, verbatimSymlinks: true });
            await rename(tmp, dir).catch(async (e) => {
              await rm(tmp, { recursive: true, force: true });
              if (!(await stat(dir).then(() => true, () => false))) throw e; // else another build seeded it first
            });
          } else {
            await mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
            if (process.getuid?.() === 0) await chown(dir, m.uid ?? 0, m.gid ?? 0);
          }
        }
        // sharing=locked: one RUN at a time (across kb processes); private: a fresh dir when it is in use.
        if (m.sharing === "locked" || m.sharing === "private") {
          const held = await holdLock(env, `cache-mount-${name}`, m.sharing === "private" ? 0 : undefined);
          if (held) releases.push(held);
          else {
            dir = await mkdtemp(join(env.store.dirs.tmp, `${process.pid}-cache-private-`));
            temps.push(dir);
          }
        }
        out.push({ type: "bind", source: dir, target, readonly: m.readOnly });
        exclude.push(target);
        keyParts.push(`cache:${target}`);
        break;
      }
      case "bind": {
        const target = targetOf(m);
        const found = await mountSource(env, m, "bind-mount");
        let source = found.abs;
        if (!m.readOnly) {
          // A writable bind gets a private copy: writes are thrown away, the context is never touched.
          const tmp = await mkdtemp(join(env.store.dirs.tmp, `${process.pid}-bind-`));
          temps.push(tmp);
          await cp(source, join(tmp, "src"), { recursive: true, verbatimSymlinks: true });
          source = join(tmp, "src");
        }
        out.push({ type: "bind", source, target, readonly: m.readOnly });
        exclude.push(target);
        if (!found.st.isDirectory()) fileTargets.push(target);
        keyParts.push(`bind:${m.from ?? "context"}:${m.source ?? "/"}:${target}`);
        break;
      }
      case "tmpfs":
        out.push({ type: "tmpfs", target: targetOf(m), size: m.size });
        exclude.push(targetOf(m));
        keyParts.push(`tmpfs:${targetOf(m)}`);
        break;
      case "secret": {
        const id = m.id ?? (m.target ? posix.basename(m.target) : undefined);
        if (!id) throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot use --mount=${m.raw}: a secret needs id= or target=`);
        const value = await readSecret(env, id, m.required);
        if (value === undefined) break;
        const tmp = await mkdtemp(join(env.store.dirs.tmp, `${process.pid}-secret-`));
        temps.push(tmp);
        const file = join(tmp, "secret");
        await writeFile(file, value, { mode: m.mode ?? 0o400 });
        const target = m.env && !m.target ? undefined : targetOf(m, `/run/secrets/${id}`);
        if (target) {
          out.push({ type: "bind", source: file, target, readonly: true });
          exclude.push(target);
        }
        if (m.env) extraEnv.push(`${m.env}=${new TextDecoder().decode(value)}`);
        keyParts.push(`secret:${id}:${target ?? ""}:${m.env ?? ""}`);
        break;
      }
      case "ssh": {
        // Only an agent the caller forwarded with --ssh (as Docker's --ssh): kb's own SSH_AUTH_SOCK never reaches a
        // RUN by itself, or any Dockerfile could sign with the caller's keys. Not required and not given: no mount.
        const id = m.id ?? "default";
        const sock = env.opts.ssh?.find((s) => s.id === id)?.socket;
        const target = targetOf(m, "/run/buildkit/ssh_agent.0");
        if (!sock) {
          if (m.required) throw new KbError("BUILD", `Cannot mount ssh "${id}": no agent was forwarded for it`, { hint: `pass --ssh ${id === "default" ? "default" : `${id}=SOCKET`} (kb build --ssh default uses $SSH_AUTH_SOCK)` });
          break;
        }
        out.push({ type: "bind", source: sock, target, readonly: false });
        extraEnv.push(`SSH_AUTH_SOCK=${target}`);
        exclude.push(target);
        keyParts.push(`ssh:${target}`);
        break;
      }
    }
  }
  return {
    mounts: out,
    env: extraEnv,
    exclude,
    fileTargets,
    key: keyParts.join("\0"),
    cleanup: async () => {
      for (const r of releases) r();
      for (const t of temps) await rm(t, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
