// Types shared by the RUN sandbox backends: what to run and what comes back (id maps: src/helper/ids.ts).

/** How RUN is isolated: see docs/ARCHITECTURE.md "RUN without root: the isolation ladder". */
export type IsolationMode = "root" | "rootless" | "container";

/** An extra mount inside the sandbox (RUN --mount). Targets are container paths. */
export type SandboxMount =
  | { type: "bind"; source: string; target: string; readonly: boolean }
  | { type: "tmpfs"; target: string; size?: number; mode?: number };

/** Everything one RUN needs. Paths on the host are absolute. */
export interface RunSpec {
  /** Read-only layers of the root filesystem, top first. */
  lowerDirs: string[];
  /** Fresh, empty dir that receives every change: it is the diff (not on overlayfs). */
  upperDir: string;
  /** Overlay work dir, empty, on the same filesystem as upperDir. */
  workDir: string;
  args: string[];
  /** `KEY=value` strings. */
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; groups: number[] };
  hostname?: string;
  /** "sandbox": own network namespace, outbound through pasta (`pastaPath`); "none": loopback only. */
  network: "host" | "none" | "sandbox";
  /** Required for network "sandbox": from findPasta(). */
  pastaPath?: string;
  /** Join this (already configured) network namespace instead of making one: the root-mode sandbox sets it. */
  netnsPath?: string;
  mounts: SandboxMount[];
  /** Bytes of /dev/shm (--shm-size). @default 64 MiB, as Docker's */
  shmSize?: number;
  /** Resource limits set right before the command starts (--ulimit; -1 = unlimited). */
  ulimits?: { name: string; soft: number; hard: number }[];
  /**
   * Contents of the generated /etc files, bound read-only and never part of the diff. /etc/hostname is not one:
   * as under Docker's builder the RUN sees (and may write) the image's own file; `hostname` sets the name.
   */
  etc: { hosts: string; resolvConf: string };
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  stdin?: "null";
  /** Where the per-run scratch dir goes (the store's tmp/, so prune can sweep it). @default os.tmpdir() */
  scratchDir?: string;
}

/** How a RUN ended. `timedOut` is set when `timeoutMs` elapsed and the tree was killed. */
export interface RunResult {
  exitCode: number;
  signal?: string;
  timedOut?: boolean;
}

/** Options of one run: cancellation and a time limit. */
export interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Runs RUN commands. Contract: the whole process tree is gone when `run` settles. */
export interface Sandbox {
  readonly isolation: IsolationMode;
  run(spec: RunSpec, opts?: RunOptions): Promise<RunResult>;
  /** Lets go of what the sandbox holds between runs (the root-mode network namespace). */
  close?(): Promise<void>;
}
