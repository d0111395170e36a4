// Explosive front-end input (issue 13, item 3): a word's expansion is capped WHILE expanding (an ARG doubling
// chain and ${X//a/$X} fail fast at their Dockerfile line with low RSS), and a heredoc costs a small multiple of
// its size in memory over a small one's (it was ~80×), for COPY and RUN <<EOF alike. Peak RSS is read from /proc/PID/status (VmHWM) of the kb process.

import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { cleanup, makeContext, tempDir } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";
import { spawnKb, type KbExit } from "../kit/spawn-kb.ts";

const dirs: string[] = [];
afterAll(() => cleanup(...dirs));

/** Runs `kb build` on a context with `dockerfile`, returning its exit and its peak RSS in MiB. */
async function buildWithPeak(dockerfile: string, extra: string[] = [], env: Record<string, string> = {}): Promise<KbExit & { peakMiB: number }> {
  const ctx = makeContext({ Dockerfile: dockerfile });
  const cache = tempDir("kb-expansion-cache-");
  dirs.push(ctx, cache);
  const { child, done } = spawnKb(["build", "--cache-dir", cache, "--no-push", "--progress", "plain", ...extra, ctx], env);
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited
    }
  }, 5);
  const r = await done;
  clearInterval(poll);
  return { ...r, peakMiB: Math.round(peakKb / 1024) };
}

const chain = (n: number) => ["FROM scratch", "ARG A0=xx", ...Array.from({ length: n }, (_, i) => `ARG A${i + 1}=\${A${i}}\${A${i}}`), "RUN true", ""].join("\n");

describe("expansion is capped while expanding", () => {
  test("an ARG doubling chain of 39 fails at the line that passes 1 MiB", async () => {
    const r = await buildWithPeak(chain(39));
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[DOCKERFILE_EXPANSION]: Cannot expand "${A19}${A19}": the expanded value is longer than 1048576 characters');
    expect(r.err).toContain("--> Dockerfile:22");
    expect(r.err).toContain("--max-word-size");
    expect(r.peakMiB).toBeGreaterThan(0);
    expect(r.peakMiB).toBeLessThan(300); // it reached 6 GB before the cap
    record("expansion", "ARG doubling chain (39 steps)", `exit 1 at Dockerfile:22, peak RSS ${r.peakMiB} MiB`, "was 6 GB and growing after 20 s");
  }, 60_000);

  test("${X//a/$X} on 20,000 a's fails before building the result", async () => {
    const r = await buildWithPeak(`FROM scratch\nENV X=${"a".repeat(20_000)}\nENV Y=\${X//a/$X}\nRUN true\n`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("the expanded value is longer than 1048576 characters");
    expect(r.err).toContain("--> Dockerfile:3");
    expect(r.peakMiB).toBeLessThan(300); // it reached 6.6 GB before the cap
    record("expansion", "ENV Y=${X//a/$X}, X = 20k a's", `exit 1 at Dockerfile:3, peak RSS ${r.peakMiB} MiB`, "was 6.6 GB after 15 s");
  }, 60_000);

  test("--max-word-size and KB_MAX_WORD_SIZE move the cap", async () => {
    const flag = await buildWithPeak(chain(12), ["--max-word-size", "4KiB"]);
    expect(flag.code).toBe(1);
    expect(flag.err).toContain("longer than 4096 characters");
    expect(flag.err).toContain("--> Dockerfile:14"); // A11 (line 13) is 4096 characters, A12 is the first past the cap
    const env = await buildWithPeak(chain(12), [], { KB_MAX_WORD_SIZE: "4KiB" });
    expect(env.code).toBe(1);
    expect(env.err).toContain("longer than 4096 characters");
    const ok = await buildWithPeak(chain(12).replace("RUN true\n", ""), [], { KB_MAX_WORD_SIZE: "8KiB" });
    expect({ code: ok.code, err: ok.code ? ok.err.slice(-400) : "" }).toEqual({ code: 0, err: "" });
  }, 60_000);
});

describe("heredocs", () => {
  const reg = useRegistryWithBusybox();
  const lines = (mb: number, line: string) => `${line}\n`.repeat(Math.floor((mb * 1048576) / (line.length + 1)));
  const copy = (mb: number) => `FROM scratch\nCOPY <<EOF /f\n${lines(mb, "x".repeat(79))}EOF\n`;
  // Every line names a variable: the body is expanded (checked, then made again piece by piece when read).
  const copyVars = (mb: number) => `FROM scratch\nARG V=y\nCOPY <<EOF /f\n${lines(mb, `${"x".repeat(77)}$V`)}EOF\n`;
  // Each line a shell no-op, then one command whose output shows the whole script ran.
  const run = (base: string, mb: number) => `FROM ${base}\nRUN <<EOF\n${lines(mb, `: ${"x".repeat(77)}`)}echo heredoc-ran-to-the-end\nEOF\n`;

  const LABEL = { COPY: "COPY <<EOF", "COPY with $V": "COPY <<EOF, a $V per line", RUN: "RUN <<EOF" } as const;
  for (const kind of ["COPY", "COPY with $V", "RUN"] as const) {
    test(`${LABEL[kind]} of 10 / 30 / 100 MB costs at most about twice its size in memory`, async () => {
      const dockerfile = (mb: number) => (kind === "COPY" ? copy(mb) : kind === "RUN" ? run(reg.base, mb) : copyVars(mb));
      const small = await buildWithPeak(dockerfile(0.01));
      expect({ code: small.code, err: small.code ? small.err.slice(-400) : "" }).toEqual({ code: 0, err: "" });
      const over: string[] = [];
      for (const mb of [10, 30, 100]) {
        const big = await buildWithPeak(dockerfile(mb));
        expect({ code: big.code, err: big.code ? big.err.slice(-400) : "" }).toEqual({ code: 0, err: "" });
        if (kind === "RUN") expect(big.out + big.err).toContain("heredoc-ran-to-the-end");
        const ratio = (big.peakMiB - small.peakMiB) / mb;
        over.push(`${mb} MB: ${big.peakMiB} MiB (${ratio.toFixed(1)}×)`);
        // Memory is the deliverable: twice the heredoc's size plus a fixed margin (GC timing, the build's own
        // buffers, which weigh most at 10 MB); it was ~80×, then 3.3×.
        expect(big.peakMiB - small.peakMiB).toBeLessThan(2 * mb + 24);
      }
      const was = kind === "RUN" ? "failed past 128 KiB (E2BIG: the script was one argument)" : kind === "COPY" ? "was ~80×, then 3.3× at 30 MB" : "4.3× at 30 MB before the expanded body was made lazy";
      record("expansion", `heredoc 10 / 30 / 100 MB (${LABEL[kind]}), peak RSS`, over.join(", "), `over a ${small.peakMiB} MiB baseline (a 10 KB heredoc); ${was}`);
    }, 600_000);
  }
});
