import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { KbError } from "../../errors.ts";
import type { CliIo } from "../io.ts";
import { buildFlags } from "./build-flags.ts";
import { runCompletion } from "./completion.ts";

async function script(shell: string): Promise<string> {
  let out = "";
  const io: CliIo = { out: (t) => void (out += t), err: () => {}, env: {}, isTTY: false, cwd: "/" };
  expect(await runCompletion([shell], io)).toBe(0);
  return out;
}

/** Runs the bash script's `_kb` on a command line (the last word is the one being completed). */
function completeBash(src: string, words: string[]): string[] {
  const prog = `${src}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _kb; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", prog], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").filter(Boolean);
}

test("`runCompletion()` bash script passes `bash -n` and completes `kb bu` to `build`", async () => {
  const src = await script("bash");
  expect(spawnSync("bash", ["-n"], { input: src }).status).toBe(0);
  expect(completeBash(src, ["kb", "bu"])).toEqual(["build"]);
  expect(completeBash(src, ["kb", "ca"])).toEqual(["cache"]);
  expect(completeBash(src, ["kb", "cache", "p"])).toEqual(["prune"]);
  expect(completeBash(src, ["kb", "completion", "f"])).toEqual(["fish"]);
});

test("`runCompletion()` bash script completes build flags, Kaniko names and flag values", async () => {
  const src = await script("bash");
  expect(completeBash(src, ["kb", "build", "--iso"])).toEqual(["--isolation"]);
  expect(completeBash(src, ["kb", "build", "--dest"])).toEqual(["--destination"]);
  expect(completeBash(src, ["kb", "build", "--isolation", "r"])).toEqual(["rootless", "root"]);
  expect(completeBash(src, ["kb", "build", "--compression", ""])).toEqual(["gzip", "zstd"]);
  expect(completeBash(src, ["kb", "build", "--snapshot"])).toEqual([]); // hidden Kaniko no-ops are not offered
});

test("`runCompletion()` scripts name every visible build flag", async () => {
  const scripts = await Promise.all(["bash", "zsh", "fish"].map(script));
  for (const f of buildFlags.filter((x) => !x.hidden)) {
    expect(scripts[0]).toContain(`--${f.name}`);
    expect(scripts[1]).toContain(`--${f.name}[`);
    expect(scripts[2]).toContain(`-l ${f.name}`);
  }
});

test("`runCompletion()` zsh and fish scripts parse when those shells are installed", async () => {
  for (const shell of ["zsh", "fish"]) {
    if (spawnSync("sh", ["-c", `command -v ${shell}`]).status !== 0) {
      console.log(`skip ${shell} -n: ${shell} is not installed`);
      continue;
    }
    const r = spawnSync(shell, ["-n"], { input: await script(shell), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  }
});

test("`runCompletion()` rejects an unknown shell with a usage error", async () => {
  const io: CliIo = { out: () => {}, err: () => {}, env: {}, isTTY: false, cwd: "/" };
  const err = await runCompletion(["powershell"], io).catch((e) => e);
  expect(err).toBeInstanceOf(KbError);
  expect((err as KbError).code).toBe("USAGE");
  expect((err as KbError).message).toBe('Cannot print completions for "powershell": expected one of bash, zsh, fish');
});
