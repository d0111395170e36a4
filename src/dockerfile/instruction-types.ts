// Typed Dockerfile instructions: a discriminated union on `kind`, values kept unexpanded (deferred expansion).

import type { Heredoc } from "./_heredoc.ts";
import type { HeredocBody } from "./heredoc-body.ts";

/** Where an instruction sits in the Dockerfile (1-based, inclusive). */
export interface InstructionLocation {
  file: string;
  startLine: number;
  endLine: number;
}

interface Base {
  location: InstructionLocation;
  /** The logical source line (continuations joined). */
  original: string;
}

/** A `key=value` pair of ENV or LABEL; `value` is raw (quotes kept) until expanded. */
export interface KeyValue {
  key: string;
  value: string;
}

/** A RUN --mount. Numeric fields are set only when known (a `$VAR` value is resolved by `expandInstruction`). */
export interface Mount {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  /** The flag value as written (re-parsed with expansion by `expandInstruction`). */
  raw: string;
  target?: string;
  source?: string;
  from?: string;
  readOnly: boolean;
  id?: string;
  sharing?: "shared" | "private" | "locked";
  uid?: number;
  gid?: number;
  mode?: number;
  required: boolean;
  env?: string;
  /** tmpfs size in bytes. */
  size?: number;
}

/** An inline file given by a heredoc source of COPY/ADD. `data` is chomped already for `<<-`, kept in pieces. */
export interface SourceContent {
  path: string;
  data: HeredocBody;
  expand: boolean;
}

export interface FromInstruction extends Base { kind: "FROM"; image: string; platform?: string; stageName?: string }
export interface RunInstruction extends Base {
  kind: "RUN";
  /** Exec form: argv; shell form: one string. */
  command: string[];
  /** True for exec (JSON) form: no shell is prepended. */
  json: boolean;
  heredocs: Heredoc[];
  mounts: Mount[];
  network?: "default" | "none" | "host";
  security?: "sandbox" | "insecure";
  devices: string[];
}
interface CopyLike extends Base {
  sources: string[];
  sourceContents: SourceContent[];
  dest: string;
  json: boolean;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
}
export interface CopyInstruction extends CopyLike { kind: "COPY"; from?: string; parents: boolean }
export interface AddInstruction extends CopyLike { kind: "ADD"; checksum?: string; keepGitDir: boolean; unpack?: boolean }
export interface EnvInstruction extends Base { kind: "ENV"; pairs: KeyValue[]; legacy: boolean }
export interface LabelInstruction extends Base { kind: "LABEL"; pairs: KeyValue[]; legacy: boolean }
/** One ARG declaration; `value` is undefined when no default was given. */
export interface ArgDeclaration { key: string; value?: string }
export interface ArgInstruction extends Base { kind: "ARG"; args: ArgDeclaration[] }
export interface WorkdirInstruction extends Base { kind: "WORKDIR"; path: string }
export interface UserInstruction extends Base { kind: "USER"; user: string }
export interface ExposeInstruction extends Base { kind: "EXPOSE"; ports: string[] }
export interface VolumeInstruction extends Base { kind: "VOLUME"; volumes: string[] }
export interface CmdInstruction extends Base { kind: "CMD"; command: string[]; json: boolean }
export interface EntrypointInstruction extends Base { kind: "ENTRYPOINT"; command: string[]; json: boolean }
export interface ShellInstruction extends Base { kind: "SHELL"; shell: string[] }
export interface StopsignalInstruction extends Base { kind: "STOPSIGNAL"; signal: string }
/** HEALTHCHECK; durations in nanoseconds, 0 = inherit. `test` is ["NONE"], ["CMD", …] or ["CMD-SHELL", cmd]. */
export interface HealthcheckInstruction extends Base {
  kind: "HEALTHCHECK";
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}
/** ONBUILD: `trigger` is the raw text stored in the image config; `instruction` the parsed trigger. */
export interface OnbuildInstruction extends Base { kind: "ONBUILD"; trigger: string; instruction: Instruction }
export interface MaintainerInstruction extends Base { kind: "MAINTAINER"; maintainer: string }

/** Every Dockerfile instruction, keyed on `kind`. */
export type Instruction =
  | FromInstruction | RunInstruction | CopyInstruction | AddInstruction | EnvInstruction | LabelInstruction
  | ArgInstruction | WorkdirInstruction | UserInstruction | ExposeInstruction | VolumeInstruction | CmdInstruction
  | EntrypointInstruction | ShellInstruction | StopsignalInstruction | HealthcheckInstruction | OnbuildInstruction
  | MaintainerInstruction;

/** The instruction keywords kb knows. */
export type InstructionKind = Instruction["kind"];

/** A build stage: its FROM and the instructions after it. */
export interface Stage {
  /** Lowercased `AS` name. */
  name?: string;
  index: number;
  from: FromInstruction;
  instructions: Instruction[];
}
