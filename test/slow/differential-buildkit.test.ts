// Differential suite with Docker's builder as the oracle (slow): every Dockerfile is built by kb and by BuildKit
// (a private dockerd, docker.io 20.10), both pushed to a real registry, fetched with skopeo (dir:) and compared:
// tree (path, type, mode, owner, size, sha256, link target, hard links), config (Env as a set, User, WorkingDir,
// Entrypoint, Cmd, Labels, ExposedPorts, Volumes, Healthcheck, Shell, OnBuild, StopSignal), history without
// timestamps and layer count. `matrix` cases are also built by kb as nobody and as a subuid user, each compared
// with BuildKit's image built as root. At the end a table: Dockerfiles, equal as root / nobody / subuid.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { buildkitBuild, buildkitUnavailable, compareWithBuildkit, snapshot, startDockerd, type Dockerd } from "../kit/buildkit.ts";
import { kb, tempDir } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { ensureSubidUser, kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";
import { caseContext } from "./_case-context.ts";
import { BUILDKIT_CASES } from "./_differential-buildkit-cases.ts";
import { COPY_CASES, type DiffCase } from "./_differential-cases.ts";
import { KB_BUG_CASES } from "./_differential-kb-bugs.ts";
import { MORE_CASES } from "./_differential-more-cases.ts";
import { RUN_CASES } from "./_differential-run-cases.ts";

const skip = process.env.KB_SLOW_TESTS !== "1" ? "slow suite: set KB_SLOW_TESTS=1 to run it" : buildkitUnavailable() ?? rootlessSkipReason();
if (skip) console.log(`differential-buildkit.test.ts: skipped: ${skip}`);
const only = process.env.KB_DIFF_ONLY?.split(",");

const reg = useRegistryWithBusybox({ skip });
let dockerd: Dockerd;
let cache: string;
const table: { name: string; root?: boolean; nobody?: boolean | "single id"; subuid?: boolean; allowed: string[] }[] = [];

beforeAll(async () => {
  if (skip) return;
  dockerd = await startDockerd();
  cache = tempDir("kb-cache-");
  ensureSubidUser();
}, 120_000);

afterAll(async () => {
  printTable();
  await dockerd?.stop();
}, 120_000);

function printTable(): void {
  if (!table.length) return;
  const eq = (k: "root" | "nobody" | "subuid") => table.filter((r) => r[k] === true).length;
  const ran = (k: "root" | "nobody" | "subuid") => table.filter((r) => r[k] !== undefined).length;
  const single = table.filter((r) => r.nobody === "single id").length;
  const lines = [`BuildKit differential: ${table.length} Dockerfiles; equal as root ${eq("root")}/${ran("root")}, as nobody ${eq("nobody")}/${ran("nobody") - single} (+${single} need a second id: clear error), as subuid user ${eq("subuid")}/${ran("subuid")}`];
  for (const r of table) lines.push(`  ${r.name.padEnd(40)} root:${fmt(r.root)} nobody:${fmt(r.nobody)} subuid:${fmt(r.subuid)}${r.allowed.length ? `  allowed: ${r.allowed.join("; ")}` : ""}`);
  console.log(lines.join("\n"));
}

const fmt = (v: boolean | "single id" | undefined) => (v === undefined ? "-" : v === "single id" ? "n/a (one id: clear error)" : v ? "equal" : "DIFF");

/** BuildKit's image of the case (built once, as root). */
async function oracle(c: DiffCase) {
  const ref = `${reg.host}/buildkit/${c.name}:1`;
  await buildkitBuild(dockerd, caseContext(c, c.oracleDockerfile ?? c.dockerfile, reg.base), { tag: ref, buildArgs: c.buildArgs, target: c.target });
  return snapshot(ref, c.layerEntries);
}

function kbArgs(c: DiffCase, ref: string, ctx: string, cacheDir?: string): string[] {
  const args = ["build", "--progress", "plain", ...(cacheDir ? ["--cache-dir", cacheDir] : []), "-t", ref];
  for (const [k, v] of Object.entries(c.buildArgs ?? {})) args.push("--build-arg", `${k}=${v}`);
  if (c.target) args.push("--target", c.target);
  return [...args, ctx];
}

function register(cases: DiffCase[]) {
  for (const c of cases) {
    test.skipIf(!!skip || (only !== undefined && !only.includes(c.name)))(`kb and BuildKit build the same image: ${c.name}`, async () => {
      const row: (typeof table)[number] = { name: c.name, allowed: Object.values(c.bkAllowed ?? {}) };
      table.push(row);
      const want = await oracle(c);
      const check = (who: string, ref: string) => {
        return compareWithBuildkit(snapshot(ref, c.layerEntries), want, c.ignorePaths).map((x) => `${who}: ${x}`).filter((x) => !c.bkAllowed?.[x]);
      };
      const diffs: string[] = [];
      const ref = `${reg.host}/kb/${c.name}:root`;
      const r = await kb(kbArgs(c, ref, caseContext(c, c.dockerfile, reg.base), cache));
      if (r.code !== 0) diffs.push(`root: kb build failed (${r.code}): ${r.err.slice(-2000)}`);
      else diffs.push(...check("root", ref));
      row.root = !diffs.length;
      if (c.matrix) {
        for (const [who, user] of [["nobody", "nobody"], ["subuid", "kbtest"]] as const) {
          const home = userHome(user);
          const ctx = caseContext(c, c.dockerfile, reg.base);
          chmodSync(ctx, 0o755);
          const uref = `${reg.host}/kb/${c.name}:${who}`;
          const u = kbAs(user, user === "nobody" ? "nogroup" : user, home, kbArgs(c, uref, ctx));
          const before = diffs.length;
          if (who === "nobody" && c.singleIdFails) {
            // One id only: kb must refuse clearly (its warning names the fix), not build a different image.
            if (u.code === 0 || !u.err.includes("rootless with a single id")) diffs.push(`nobody: expected the single-id failure (${c.singleIdFails}), got code ${u.code}: ${u.err.slice(-1000)}`);
            row.nobody = diffs.length === before ? "single id" : false;
            continue;
          }
          if (u.code !== 0) diffs.push(`${who}: kb build failed (${u.code}): ${u.err.slice(-2000)}`);
          else diffs.push(...check(who, uref));
          row[who] = diffs.length === before;
        }
      }
      expect(diffs).toEqual([]);
    }, 300_000);
  }
}

describe("BuildKit differential: issue 14 findings", () => register(BUILDKIT_CASES));
describe("BuildKit differential: Dockerfiles without RUN", () => register(COPY_CASES));
describe("BuildKit differential: Dockerfiles with RUN", () => register(RUN_CASES));
describe("BuildKit differential: former kb bugs", () => register(KB_BUG_CASES));
describe("BuildKit differential: every instruction and flag of the 20.10 frontend", () => register(MORE_CASES));
