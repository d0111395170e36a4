// kb's entry: picks the command (a citty command tree, each command loaded on first use), runs it, renders
// errors, returns the exit code (0 ok, 1 failed, 2 usage). Each command parses its own flags (see flags.ts).

import { defineCommand, runCommand, type CommandDef } from "citty";
import { KbError } from "../errors.ts";
import { suggest } from "../suggest.ts";
import { processIo, type CliIo } from "./io.ts";
import { exitCodeFor, renderError } from "./render-error.ts";

type CommandRunner = (argv: string[], io: CliIo) => Promise<number>;

/** Commands load lazily so `kb version` does not pay for the build engine. */
const commands: Record<string, { summary: string; load: () => Promise<CommandRunner> }> = {
  build: { summary: "Build an image from a Dockerfile", load: async () => (await import("./commands/build.ts")).runBuildCommand },
  pull: { summary: "Pull an image into the store or an OCI layout", load: async () => (await import("./commands/image-commands.ts")).runPull },
  push: { summary: "Push oci:DIR or docker-archive:FILE to a registry", load: async () => (await import("./commands/image-commands.ts")).runPush },
  warm: { summary: "Pull base images into the store ahead of builds (Kaniko's warmer)", load: async () => (await import("./commands/warm.ts")).runWarm },
  index: { summary: "Create a multi-platform index from images in registries", load: async () => (await import("./commands/index-create.ts")).runIndex },
  inspect: { summary: "Show an image's platforms, layers and config", load: async () => (await import("./commands/image-commands.ts")).runInspect },
  login: { summary: "Save registry credentials in Docker's config.json", load: async () => (await import("./commands/login.ts")).runLogin },
  sign: { summary: "Sign an image in a registry with a cosign key", load: async () => (await import("./commands/sign.ts")).runSign },
  verify: { summary: "Verify an image's cosign signature with a public key", load: async () => (await import("./commands/sign.ts")).runVerify },
  key: { summary: "Generate a cosign key pair (kb key generate)", load: async () => (await import("./commands/sign.ts")).runKey },
  cache: { summary: "Store maintenance: ls, du, prune, verify", load: async () => (await import("./commands/cache.ts")).runCache },
  doctor: { summary: "Show how RUN will be isolated on this machine", load: async () => (await import("./commands/doctor.ts")).runDoctor },
  completion: { summary: "Print a shell completion script (bash, zsh, fish)", load: async () => (await import("./commands/completion.ts")).runCompletion },
  version: { summary: "Print version, commit and platform", load: async () => (await import("./commands/version.ts")).runVersion },
};

export function topLevelHelp(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "kb — build OCI images from Dockerfiles, no daemon, no root",
    "",
    "Usage: kb <command> [flags]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`),
    "",
    'Run "kb <command> --help" for a command\'s flags.',
    "",
  ].join("\n");
}

/** The citty command tree; each subcommand hands its raw arguments to kb's runner and records the exit code. */
function commandTree(io: CliIo, result: { code: number }): CommandDef {
  const subCommands = Object.fromEntries(
    Object.entries(commands).map(([name, c]) => [
      name,
      () =>
        defineCommand({
          meta: { name, description: c.summary },
          run: async ({ rawArgs }) => {
            result.code = await (await c.load())(rawArgs, io);
          },
        }),
    ]),
  );
  return defineCommand({ meta: { name: "kb", description: "Build OCI images from Dockerfiles, no daemon, no root" }, subCommands });
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const result = { code: 0 };
  await runCommand(commandTree(io, result), { rawArgs: argv });
  return result.code;
}

/**
 * Kaniko's entry point: run as `/kaniko/executor` (the name kb has in the executor images), kb takes Kaniko's
 * command line, which has no subcommand: `executor --context … --destination …` is `kb build --context …`.
 * A kb command name first (`executor version`) still runs that command. Run as `/kaniko/warmer`, Kaniko's warmer
 * command line is `kb warm …`.
 */
export function executorArgv(argv0: string | undefined, argv: string[]): string[] {
  const name = (argv0 ?? "").split("/").pop();
  if (name === "warmer") return argv[0] && argv[0] in commands ? argv : ["warm", ...argv];
  if (name !== "executor") return argv;
  return argv[0] && argv[0] in commands ? argv : ["build", ...argv];
}

/** Runs kb with argv (without the program name) and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(topLevelHelp());
    return name ? 0 : 2;
  }
  if (name === "--version") return (await commands.version!.load())(rest, io);
  const cmd = commands[name];
  const debug = /debug|trace/.test(io.env.KB_DEBUG ?? "") || rest.some((a) => /^--verbosity[= ]?(debug|trace)$/.test(a));
  try {
    if (!cmd) {
      const s = suggest(name, Object.keys(commands), { prefix: true });
      throw new KbError("USAGE", `Cannot run "kb ${name}": unknown command`, { hint: s ? `did you mean "kb ${s}"?` : 'run "kb --help"' });
    }
    return await dispatch(argv, io);
  } catch (err) {
    io.err(renderError(err, debug));
    return exitCodeFor(err);
  }
}
