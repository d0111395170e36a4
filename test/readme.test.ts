// The README's two set-up commands are what a new user types: the first is run here as written (less the
// `npm ci` that the test command has just done), the second is the command that runs this very suite.

import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
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

test("the README's first command builds the example into an OCI layout that skopeo reads", () => {
  const cmd = commands[0]!.replace(/^npm ci && /, "");
  rmSync(join(repo, "hello-oci"), { recursive: true, force: true });
  const r = spawnSync("bash", ["-c", cmd], { cwd: repo, encoding: "utf8", env: { ...process.env, KB_CACHE_DIR: join(repo, ".kb-test", "readme-cache") } });
  if (r.status !== 0) console.log(r.stdout, r.stderr);
  expect(r.status).toBe(0);
  const s = spawnSync("skopeo", ["inspect", `oci:${join(repo, "hello-oci")}:latest`], { encoding: "utf8" });
  expect(s.status).toBe(0);
  expect(JSON.parse(s.stdout).Labels.greeting).toBe("hello");
  rmSync(join(repo, "hello-oci"), { recursive: true, force: true });
}, 120_000);
