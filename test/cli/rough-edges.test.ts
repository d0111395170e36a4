// The rough edges a new user hit (issue 16, items 5 and 6): exit codes after Ctrl-C and SIGTERM, the report of
// a failed build, an unreadable context file, `kb inspect` of Healthcheck/Shell/OnBuild/StopSignal, `kb cache
// ls` columns, the unnamed stage label. Real registry, real subprocesses.

import { beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { chmodSync, chownSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kb, makeContext, tempDir } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kbAs, rootlessSkipReason, userHome } from "../kit/users.ts";
import { spawnKb } from "../kit/spawn-kb.ts";

// Real registries and subprocesses: seconds each, more on a loaded machine; bun's 5 s default is too short.
setDefaultTimeout(120_000);

const reg = useRegistryWithBusybox();
let cache: string;
beforeAll(async () => {
  cache = tempDir("kb-cache-");
});

/**
 * Starts a build whose RUN sleeps, sends `signal` once stderr matches `when` (by default the RUN's own first output
 * line, so the command runs), and returns the exit.
 */
async function interrupt(signal: "SIGINT" | "SIGTERM", when = /^started$/m) {
  const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN echo started && sleep 600\n` });
  const { child, done } = spawnKb(["build", "--cache-dir", cache, "--no-cache", "--no-push", "--progress", "plain", ctx]);
  let err = "";
  await new Promise<void>((resolve) => {
    child.stderr!.on("data", (d) => {
      err += d;
      if (when.test(err)) resolve();
    });
    child.on("close", () => resolve());
  });
  child.kill(signal);
  return done;
}

describe("rough edges", () => {
  test("Ctrl-C (SIGINT) exits 130 and SIGTERM 143, as shells report a killed process", async () => {
    const int = await interrupt("SIGINT");
    expect(int.err).toContain("interrupted by SIGINT");
    expect(int.code).toBe(130);
    const term = await interrupt("SIGTERM");
    expect(term.err).toContain("interrupted by SIGTERM");
    expect(term.code).toBe(143);
  }, 120_000);

  test("Ctrl-C while the RUN sandbox is being set up (the isolation probe) still says interrupted, not a sandbox error", async () => {
    // The step line names the RUN before its sandbox exists: the signal lands in the probe, whose helpers it kills.
    const r = await interrupt("SIGINT", /RUN echo started/);
    expect(r.err).toContain("interrupted by SIGINT");
    expect(r.err).not.toContain("error[SANDBOX]");
    expect(r.code).toBe(130);
  }, 120_000);

  test("a failed build still writes --report, with the steps up to the failure and why it stopped", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN echo one\nRUN exit 3\n` });
    const dir = tempDir("kb-report-");
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--report", join(dir, "r.json"), ctx]);
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as { error?: string; steps: { text: string }[]; digest?: string };
    expect(report.error).toContain("exit");
    expect(report.digest).toBeUndefined();
    expect(report.steps.map((s) => s.text)).toContain("RUN exit 3");
    const html = await kb(["build", "--cache-dir", cache, "--no-push", "--report", join(dir, "r.html"), ctx]);
    expect(html.code).toBe(1);
    expect(readFileSync(join(dir, "r.html"), "utf8")).toContain("Build failed:");
  });

  const skip = rootlessSkipReason();
  test.skipIf(!!skip)("an unreadable file in the context is a CONTEXT error naming it, with a hint (as for a directory)", () => {
    const home = userHome("nobody");
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY . /app\n", "ok.txt": "ok", "secret.txt": "no" });
    chmodSync(ctx, 0o755);
    for (const f of ["Dockerfile", "ok.txt"]) chmodSync(join(ctx, f), 0o644);
    chownSync(join(ctx, "secret.txt"), 0, 0);
    chmodSync(join(ctx, "secret.txt"), 0o600);
    const r = kbAs("nobody", "nogroup", home, ["build", "--no-push", ctx]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[CONTEXT]: Cannot read "secret.txt" in the build context: EACCES');
    expect(r.err).toContain('hint: Make "secret.txt" readable, or exclude it in .dockerignore');
    expect(r.err).not.toContain("INTERNAL");
  });

  test("`kb inspect` shows Healthcheck, Shell, OnBuild, StopSignal and Volumes", async () => {
    const ctx = makeContext({
      Dockerfile: `FROM scratch\nCOPY a /a\nHEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD ["/bin/check", "-q"]\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nONBUILD RUN echo child\nSTOPSIGNAL SIGQUIT\nVOLUME /data\n`,
      a: "a",
    });
    const out = join(tempDir("kb-inspect-"), "oci");
    expect((await kb(["build", "--cache-dir", cache, "--no-push", "--output", `type=oci,dest=${out}`, ctx])).code).toBe(0);
    const r = await kb(["inspect", `oci:${out}`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Healthcheck:  CMD ["/bin/check","-q"] interval=30s timeout=3s retries=2');
    expect(r.out).toContain('Shell:        ["/bin/ash","-eo","pipefail","-c"]');
    expect(r.out).toContain("OnBuild:      RUN echo child");
    expect(r.out).toContain("StopSignal:   SIGQUIT");
    expect(r.out).toContain("Volumes:      /data");
    const j = JSON.parse((await kb(["inspect", "--format", "json", `oci:${out}`])).out) as { image: { stopSignal: string; healthcheck: { Retries: number } } };
    expect(j.image.stopSignal).toBe("SIGQUIT");
    expect(j.image.healthcheck.Retries).toBe(2);
  });

  test("`kb cache ls` columns line up, however long a kind is", async () => {
    const store = tempDir("kb-ls-");
    expect((await kb(["pull", "--cache-dir", store, "-q", reg.base])).code).toBe(0);
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nCOPY a /a\n`, a: "a" });
    expect((await kb(["build", "--cache-dir", store, "--no-push", ctx])).code).toBe(0);
    const r = await kb(["cache", "ls", "--cache-dir", store]);
    const lines = r.out.trim().split("\n").slice(0, -1);
    expect(lines.length).toBeGreaterThan(2);
    const kindAt = lines[0]!.indexOf("KIND");
    const usedAt = lines[0]!.indexOf("LAST USED");
    const whatAt = lines[0]!.indexOf("WHAT");
    for (const l of lines.slice(1)) {
      expect(l[kindAt - 1]).toBe(" ");
      expect(l.slice(kindAt, usedAt)).toMatch(/^\S+ {2,}$/);
      expect(l.slice(usedAt, whatAt)).toMatch(/^\d{4}-\d\d-\d\dT\S+ {2,}$/);
    }
  });

  test("an unnamed stage is labelled stage-N (as BuildKit), not a bare number", async () => {
    const ctx = makeContext({ Dockerfile: "FROM scratch\nCOPY a /a\nFROM scratch\nCOPY --from=0 /a /b\n", a: "a" });
    const r = await kb(["build", "--cache-dir", cache, "--no-push", "--progress", "plain", ctx]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("[stage-1 2/2] [2/2] COPY --from=0 /a /b");
    expect(r.err).not.toMatch(/\[1 2\/2\]/);
  });
});
