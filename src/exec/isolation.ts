// The isolation ladder: probe what this host allows (by trying it), choose a mode, explain it for `kb doctor`.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { KbError } from "../errors.ts";
import {
  type SetuidTool, type SubIdRange, detectContainer, findSetuidTool, hasCapSysAdmin, parseSubIds, readSysctl, safeRead, userName,
} from "./_host-facts.ts";
import { resolveHelperPath } from "../helper/helper-path.ts";
import { singleIdMapping, subidMapping, type IdMapping } from "../helper/ids.ts";
import { runHelper } from "./sandbox.ts";
import type { IsolationMode } from "./types.ts";

/** Outcome of one probe: it worked, or the error that stopped it. */
export interface ProbeResult {
  ok: boolean;
  error?: string;
}

/** What this host allows, found by trying (see docs/ARCHITECTURE.md "RUN without root: the isolation ladder"). */
export interface IsolationReport {
  uid: number;
  gid: number;
  user?: string;
  capSysAdmin: boolean;
  maxUserNamespaces: number | null;
  unprivilegedUsernsClone: number | null;
  apparmorRestrictUserns: number | null;
  subuid?: SubIdRange;
  subgid?: SubIdRange;
  newuidmap?: SetuidTool;
  newgidmap?: SetuidTool;
  helper: { path?: string; error?: string };
  /** Namespaces + overlay without a user namespace (root only). */
  root?: ProbeResult;
  /** A user namespace with a single-id map, then the overlay and mounts. */
  userns?: ProbeResult;
  /** The same with the full /etc/subuid range through newuidmap/newgidmap. */
  subids?: ProbeResult;
  container: { inside: boolean; reasons: string[] };
}

/** The chosen mode, its id map (rootless) and what the user should know. */
export interface IsolationChoice {
  mode: IsolationMode;
  idMap?: IdMapping;
  warnings: string[];
}

async function probeRun(helper: string, idMap: IdMapping | undefined): Promise<ProbeResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "kb-probe-"));
  try {
    for (const d of ["lower", "upper", "work"]) mkdirSync(path.join(dir, d));
    const spec = {
      lowerDirs: [path.join(dir, "lower")], upperDir: path.join(dir, "upper"), workDir: path.join(dir, "work"),
      args: [], env: [], cwd: "/", user: { uid: 0, gid: 0, groups: [] }, network: "host" as const, mounts: [],
      hostname: "probe",
      etc: { hosts: "", resolvConf: "" },
    };
    const r = await runHelper(helper, spec, idMap, { timeoutMs: 10_000 }, true);
    return r.exitCode === 0 ? { ok: true } : { ok: false, error: `probe exited with ${r.exitCode}` };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message.replace(/^Cannot set up the RUN sandbox: /, "") : String(e) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Probes the host: reads the sysctls, CapEff, /etc/subuid and /etc/subgid (by name and uid), the
 * newuidmap/newgidmap setuid bits, and runs the helper's no-op setup in each candidate mode.
 * @example const choice = chooseIsolation("auto", await probeIsolation());
 */
export async function probeIsolation(opts: { helperPath?: string } = {}): Promise<IsolationReport> {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const user = userName(uid);
  const report: IsolationReport = {
    uid, gid, user,
    capSysAdmin: hasCapSysAdmin(),
    maxUserNamespaces: readSysctl("/proc/sys/user/max_user_namespaces"),
    unprivilegedUsernsClone: readSysctl("/proc/sys/kernel/unprivileged_userns_clone"),
    apparmorRestrictUserns: readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    subuid: parseSubIds(safeRead("/etc/subuid"), user, uid),
    subgid: parseSubIds(safeRead("/etc/subgid"), user, uid),
    newuidmap: findSetuidTool("newuidmap"),
    newgidmap: findSetuidTool("newgidmap"),
    helper: {},
    container: detectContainer(),
  };
  try {
    report.helper.path = opts.helperPath ?? (await resolveHelperPath());
  } catch (e) {
    report.helper.error = e instanceof Error ? e.message : String(e);
    return report;
  }
  const helper = report.helper.path;
  if (uid === 0 && report.capSysAdmin) report.root = await probeRun(helper, undefined);
  report.userns = await probeRun(helper, singleIdMapping(uid, gid));
  const full = fullMapping(report);
  if (report.userns.ok && full) report.subids = await probeRun(helper, full);
  return report;
}

function fullMapping(r: IsolationReport): IdMapping | undefined {
  if (!r.subuid || !r.subgid || !r.newuidmap?.setuid || !r.newgidmap?.setuid) return undefined;
  const count = Math.min(r.subuid.count, r.subgid.count, 65536);
  return subidMapping(r.uid, r.gid, { uid: r.subuid.start, gid: r.subgid.start, count },
    { newuidmap: r.newuidmap.path, newgidmap: r.newgidmap.path });
}

/** Why user namespaces fail here, with the exact fix. */
export function usernsAdvice(r: IsolationReport): string[] {
  const out: string[] = [];
  if (r.apparmorRestrictUserns === 1) out.push("AppArmor blocks unprivileged user namespaces: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or give kb an AppArmor profile with \"userns,\")");
  if (r.unprivilegedUsernsClone === 0) out.push("user namespaces are disabled: sudo sysctl -w kernel.unprivileged_userns_clone=1");
  if (r.maxUserNamespaces === 0) out.push("user.max_user_namespaces is 0: sudo sysctl -w user.max_user_namespaces=15000");
  if (out.length === 0 && r.userns?.error) out.push(`the probe failed: ${r.userns.error} (a seccomp profile, as in a default Docker or Kubernetes pod, also blocks unshare)`);
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * A 65536-id range no user has in /etc/subuid or /etc/subgid yet ("START-END"): right after the highest range
 * in use, never below 100000 (as useradd allocates them).
 * @example freeSubidRange("alice:100000:65536\n", "") // "165536-231071"
 */
export function freeSubidRange(subuid: string, subgid: string): string {
  let end = 100000;
  for (const line of `${subuid}\n${subgid}`.split("\n")) {
    const [, start, count] = line.trim().split(":");
    const s = Number(start);
    const c = Number(count);
    if (Number.isFinite(s) && Number.isFinite(c) && c > 0) end = Math.max(end, s + c);
  }
  return `${end}-${end + 65535}`;
}

function subidAdvice(r: IsolationReport): string {
  const who = r.user ?? String(r.uid);
  if (!r.newuidmap?.setuid || !r.newgidmap?.setuid) return "newuidmap/newgidmap are missing or not setuid root (apt-get install uidmap)";
  if (!r.subuid || !r.subgid) {
    const range = freeSubidRange(readText("/etc/subuid"), readText("/etc/subgid"));
    return `no /etc/subuid or /etc/subgid range for "${who}": sudo usermod --add-subuids ${range} --add-subgids ${range} ${who}`;
  }
  return `newuidmap with the /etc/subuid range failed: ${r.subids?.error ?? "not probed"}`;
}

function rootless(r: IsolationReport): IsolationChoice {
  const full = r.subids?.ok ? fullMapping(r) : undefined;
  if (full) return { mode: "rootless", idMap: full, warnings: [] };
  return {
    mode: "rootless", idMap: singleIdMapping(r.uid, r.gid),
    warnings: [`rootless with a single id (0 → ${r.uid}): chown to any other id fails, and so does apt's switch to its "_apt" user; ${subidAdvice(r)}`],
  };
}

/**
 * Picks the isolation mode: root with CAP_SYS_ADMIN → "root"; user namespaces → "rootless"
 * (full subuid range, else one id with a warning); else "container", refused outside a container
 * unless `force`. An explicit mode that cannot work throws KbError "SANDBOX" with the fix.
 */
export function chooseIsolation(mode: "auto" | IsolationMode, r: IsolationReport, opts: { force?: boolean } = {}): IsolationChoice {
  if (r.helper.error && mode !== "container") {
    throw new KbError("SANDBOX", `Cannot isolate RUN: ${r.helper.error}`, { hint: "set KB_SANDBOX_HELPER, or use --isolation container inside a throwaway container" });
  }
  const rootOk = r.root?.ok === true;
  const usernsOk = r.userns?.ok === true;
  if (mode === "root" || (mode === "auto" && rootOk)) {
    if (rootOk) return { mode: "root", warnings: [] };
    throw new KbError("SANDBOX", `Cannot use isolation "root": ${r.uid !== 0 ? `kb runs as uid "${r.uid}"` : r.capSysAdmin ? r.root?.error ?? "probe failed" : "CAP_SYS_ADMIN is missing"}`, {
      hint: "use --isolation auto",
    });
  }
  if (mode === "rootless" || (mode === "auto" && usernsOk)) {
    if (usernsOk) return rootless(r);
    throw new KbError("SANDBOX", "Cannot use isolation \"rootless\": user namespaces are not allowed here", { hint: usernsAdvice(r).join("; ") });
  }
  if (mode === "container" || mode === "auto") {
    const warnings = usernsAdvice(r).map((a) => `no namespaces: ${a}`);
    if (r.container.inside || opts.force) return { mode: "container", warnings: [...warnings, "container mode runs RUN directly in / of this container and rewrites it"] };
    throw new KbError("SANDBOX", "Cannot use isolation \"container\": this does not look like a throwaway container, and container mode rewrites /", {
      hint: [...usernsAdvice(r), "pass --force to run in / anyway"].join("; "),
    });
  }
  throw new KbError("USAGE", `Cannot use isolation "${mode}": expected auto, root, rootless or container`);
}

function line(label: string, p: ProbeResult | undefined): string {
  return `  ${label.padEnd(26)}${p === undefined ? "not probed" : p.ok ? "ok" : `no (${p.error})`}`;
}

/** Human-readable report for `kb doctor`. */
export function formatIsolationReport(r: IsolationReport, choice?: IsolationChoice): string {
  const v = (n: number | null) => (n === null ? "absent" : String(n));
  const tool = (t: SetuidTool | undefined) => (t ? `${t.path}${t.setuid ? " (setuid root)" : " (NOT setuid)"}` : "missing");
  const range = (s: SubIdRange | undefined) => (s ? `${s.start}-${s.start + s.count - 1} (${s.count} ids)` : "none");
  const out = [
    "RUN isolation",
    `  user                      ${r.user ?? "?"} (uid ${r.uid}, gid ${r.gid})${r.capSysAdmin ? ", CAP_SYS_ADMIN" : ""}`,
    `  sandbox helper            ${r.helper.path ?? `unavailable: ${r.helper.error}`}`,
    line("namespaces as root", r.root),
    line("user namespace (1 id)", r.userns),
    line("user namespace (subuids)", r.subids),
    `  user.max_user_namespaces  ${v(r.maxUserNamespaces)}`,
    `  unprivileged_userns_clone ${v(r.unprivilegedUsernsClone)}`,
    `  apparmor_restrict_userns  ${v(r.apparmorRestrictUserns)}`,
    `  /etc/subuid, /etc/subgid  ${range(r.subuid)}, ${range(r.subgid)}`,
    `  newuidmap, newgidmap      ${tool(r.newuidmap)}, ${tool(r.newgidmap)}`,
    `  in a container            ${r.container.inside ? "yes" : "no"}${r.container.reasons.length ? ` (${r.container.reasons.join("; ")})` : ""}`,
  ];
  if (choice) out.push(`  chosen                    ${choice.mode}`, ...choice.warnings.map((w) => `  warning: ${w}`));
  return out.join("\n");
}
