// The README's two set-up commands are what a new user types: the first is run here as written (less the
// `npm ci` that the test command has just done), the second is the command that runs this very suite.

import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "..");
const readme = readFileSync(join(repo, "README.md"), "utf8");
const setup = readme.slice(readme.indexOf("## Set up"), readme.indexOf("\n## ", readme.indexOf("## Set up") + 1));
const commands = [...setup.matchAll(/```sh\n([^`]+?)\n```/g)].map((m) => m[1]!.trim());

test("the README has exactly two set-up commands: build the example, run the tests", () => {
  expect(commands.length).toBe(2);
  expect(commands[1]).toBe("npm test");
  expect(commands[0]).toStartWith("npm ci && ");
});

test("the README's first command builds the example into an OCI layout that skopeo reads, leaving the checkout's hello-oci alone", () => {
  // The user's own hello-oci (the output of this very command) must survive the test suite: the layout goes to
  // a temp dir instead; the command is otherwise run as written.
  expect(commands[0]).toContain("dest=hello-oci ");
  const tmp = mkdtempSync(join(tmpdir(), "kb-readme-"));
  const mine = join(repo, "hello-oci");
  const before = existsSync(mine) ? statSync(mine).mtimeMs : undefined;
  try {
    const cmd = commands[0]!.replace(/^npm ci && /, "").replace("dest=hello-oci ", `dest=${join(tmp, "hello-oci")} `);
    const r = spawnSync("bash", ["-c", cmd], { cwd: repo, encoding: "utf8", env: { ...process.env, KB_CACHE_DIR: join(tmp, "cache") } });
    if (r.status !== 0) console.log(r.stdout, r.stderr);
    expect(r.status).toBe(0);
    const s = spawnSync("skopeo", ["inspect", `oci:${join(tmp, "hello-oci")}:latest`], { encoding: "utf8" });
    expect(s.status).toBe(0);
    expect(JSON.parse(s.stdout).Labels.greeting).toBe("hello");
    expect(existsSync(mine) ? statSync(mine).mtimeMs : undefined).toBe(before);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 120_000);
