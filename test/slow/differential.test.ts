// Differential suite (slow): every Dockerfile is built by kb and by buildah (the oracle), both pushed to a real
// registry, unpacked with umoci and compared: same file tree (path, type, mode, uid, gid, size, sha256, link
// target, hard-link count) and same config, up to the differences docs/differences-from-docker.md allows.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { buildahBuild, buildahUnavailable, compareImages, removeBuildahEnv } from "../kit/buildah.ts";
import { kb, tempDir } from "../kit/kb.ts";
import { caseContext } from "./_case-context.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { COPY_CASES, type DiffCase } from "./_differential-cases.ts";
import { KB_BUG_CASES } from "./_differential-kb-bugs.ts";
import { RUN_CASES } from "./_differential-run-cases.ts";

const skip = process.env.KB_SLOW_TESTS !== "1" ? "slow suite: set KB_SLOW_TESTS=1 to run it" : buildahUnavailable();
if (skip) console.log(`differential.test.ts: skipped: ${skip}`);
const runSkip = skip ?? (spawnSync("unshare", ["--user", "true"]).status !== 0 ? "user namespaces are not allowed here (kb RUN)" : undefined);
if (!skip && runSkip) console.log(`differential.test.ts: RUN cases skipped: ${runSkip}`);

const reg = useRegistryWithBusybox({ skip });
let cache: string;
beforeAll(async () => {
  if (skip) return;
  cache = tempDir("kb-cache-");
});
afterAll(async () => {
  removeBuildahEnv();
});

/** Builds the case with both tools and returns the differences (empty when the images match). */
async function differences(c: DiffCase): Promise<string[]> {
  const kbRef = `${reg.host}/kb/${c.name}:1`;
  const bRef = `${reg.host}/buildah/${c.name}:1`;
  const args = Object.entries(c.buildArgs ?? {}).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]);
  if (c.target) args.push("--target", c.target);
  const r = await kb(["build", "--cache-dir", cache, "--progress", "plain", ...args, "-t", kbRef, caseContext(c, c.dockerfile, reg.base)]);
  if (r.code !== 0) throw new Error(`kb build failed (${r.code}):\n${r.err.slice(-4000)}`);
  const oracleCtx = caseContext(c, c.oracleDockerfile ?? c.dockerfile, reg.base);
  await buildahBuild(oracleCtx, { tag: bRef, buildArgs: c.buildArgs, target: c.target });
  return compareImages(kbRef, bRef, { ignorePaths: c.ignorePaths }).filter((d) => !c.allowed?.[d]);
}

function register(cases: DiffCase[], skipReason: string | undefined) {
  for (const c of cases) {
    const title = `kb and buildah build the same image: ${c.name}`;
    if (c.kbBug && !skipReason) {
      test.todo(`${title} (kb bug: ${c.kbBug})`, async () => expect(await differences(c)).toEqual([]), 180_000);
      continue;
    }
    test.skipIf(!!skipReason)(title, async () => {
      expect(await differences(c)).toEqual([]);
    }, 180_000);
  }
}

describe("differential: Dockerfiles without RUN", () => register(COPY_CASES, skip));
describe("differential: Dockerfiles with RUN", () => register(RUN_CASES, runSkip));
describe("differential: known kb bugs", () => register(KB_BUG_CASES, runSkip));
