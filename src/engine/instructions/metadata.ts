// Instructions that change only the image config: ENV LABEL USER EXPOSE VOLUME CMD ENTRYPOINT SHELL STOPSIGNAL
// HEALTHCHECK ONBUILD MAINTAINER. Each returns the history text; none touches the filesystem.

import { KbError } from "../../errors.ts";
import { locationOf, type Instruction } from "../../dockerfile/index.ts";
import type { ContainerConfig } from "../../image/types.ts";
import { setEnv, type StageState } from "../core/stage-state.ts";
import { goList, goQuotedList, goSet, healthcheckText } from "../core/history-text.ts";

/** The instruction kinds that change only the image config: the one list (the type below derives from it). */
export const METADATA_KINDS = [
  "ENV", "LABEL", "USER", "EXPOSE", "VOLUME", "CMD", "ENTRYPOINT", "SHELL", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "MAINTAINER",
] as const satisfies readonly Instruction["kind"][];

export type MetadataInstruction = Extract<Instruction, { kind: (typeof METADATA_KINDS)[number] }>;

const METADATA_KIND_SET: ReadonlySet<string> = new Set(METADATA_KINDS);

export function isMetadata(i: Instruction): i is MetadataInstruction {
  return METADATA_KIND_SET.has(i.kind);
}

/** The shell of a stage: SHELL, else /bin/sh -c. */
export function stageShell(c: ContainerConfig | undefined): string[] {
  return c?.Shell?.length ? c.Shell : ["/bin/sh", "-c"];
}

function commandOf(inst: { command: string[]; json: boolean }, c: ContainerConfig): string[] {
  return inst.json ? inst.command : [...stageShell(c), inst.command.join(" ")];
}

function normalizePort(p: string, inst: Instruction): string[] {
  // 80, 80/tcp, 8000-8002/udp
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
  if (!m) throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot expose "${p}": not a port`, { hint: "EXPOSE 80, 80/tcp, 53/udp or 8000-8010/tcp", location: locationOf(inst) });
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (hi < lo || hi > 65535) throw new KbError("DOCKERFILE_INSTRUCTION", `Cannot expose "${p}": invalid range`, { location: locationOf(inst) });
  const proto = (m[3] ?? "tcp").toLowerCase();
  const out: string[] = [];
  for (let x = lo; x <= hi; x++) out.push(`${x}/${proto}`);
  return out;
}

/** Applies one metadata instruction (already expanded) to the stage config; returns the history text. */
export function applyMetadata(st: StageState, inst: MetadataInstruction): string {
  const c = (st.config.config ??= {});
  switch (inst.kind) {
    case "ENV":
      for (const { key, value } of inst.pairs) setEnv(c, key, value);
      return `ENV ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`;
    case "LABEL":
      c.Labels = { ...(c.Labels ?? {}) };
      for (const { key, value } of inst.pairs) c.Labels[key] = value;
      return `LABEL ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`;
    case "USER":
      c.User = inst.user;
      return `USER ${inst.user}`;
    case "EXPOSE":
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of inst.ports) for (const n of normalizePort(p, inst)) c.ExposedPorts[n] = {};
      return `EXPOSE ${goSet(inst.ports.flatMap((p) => normalizePort(p, inst)))}`;
    case "VOLUME":
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of inst.volumes) {
        if (!v) throw new KbError("DOCKERFILE_INSTRUCTION", "Cannot use an empty VOLUME path", { location: locationOf(inst) });
        c.Volumes[v] = {};
      }
      return `VOLUME ${goList(inst.volumes)}`;
    case "CMD":
      c.Cmd = commandOf(inst, c);
      // BuildKit's dispatchCmd sets the (deprecated, Windows-only) flag on every CMD, for Docker's image spec.
      c.ArgsEscaped = true;
      st.cmdSet = true;
      return `CMD ${goQuotedList(c.Cmd)}`;
    case "ENTRYPOINT":
      c.Entrypoint = commandOf(inst, c);
      if (!st.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuotedList(c.Entrypoint)}`;
    case "SHELL":
      c.Shell = inst.shell;
      return `SHELL ${goList(inst.shell)}`;
    case "STOPSIGNAL":
      c.StopSignal = inst.signal;
      return `STOPSIGNAL ${inst.signal}`;
    case "HEALTHCHECK": {
      if (inst.test[0] === "NONE") c.Healthcheck = { Test: ["NONE"] };
      else {
        const h: NonNullable<ContainerConfig["Healthcheck"]> = { Test: inst.test };
        if (inst.interval) h.Interval = inst.interval;
        if (inst.timeout) h.Timeout = inst.timeout;
        if (inst.startPeriod) h.StartPeriod = inst.startPeriod;
        if (inst.startInterval) h.StartInterval = inst.startInterval;
        if (inst.retries) h.Retries = inst.retries;
        c.Healthcheck = h;
      }
      return healthcheckText(c.Healthcheck!);
    }
    case "ONBUILD":
      c.OnBuild = [...(c.OnBuild ?? []), inst.trigger];
      return `ONBUILD ${inst.trigger}`;
    case "MAINTAINER":
      st.config.author = inst.maintainer;
      return `MAINTAINER ${inst.maintainer}`;
  }
}
