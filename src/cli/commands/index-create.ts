// `kb index create -t REF SRC…`: publishes one multi-platform index over images built elsewhere (one runner
// per platform, each pushing by digest), the job of `docker buildx imagetools create`.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { KbError } from "../../errors.ts";
import { parseReference } from "../../image/reference.ts";
import { formatPlatform } from "../../image/platform.ts";
import { composeIndex } from "../../registry/index.ts";
import type { CliIo } from "../io.ts";
import { parseCommandFlags, progressFromFlags, REGISTRY_FLAGS, registryClientFromFlags, type CommandHelp } from "./_common.ts";

const CREATE: CommandHelp = {
  name: "index create",
  args: [1, 1000],
  usage: "kb index create -t REF [-t REF…] SRC…   (SRC: REF@DIGEST, a tag, or an index whose entries are all taken)",
  summary: "Create a multi-platform index from images already in registries and push it under every -t",
  specs: [
    { name: "tag", aliases: ["t"], type: "string", repeatable: true, valueHint: "REF", description: "Push the index as REF" },
    { name: "digest-file", type: "string", valueHint: "FILE", description: "Write the index digest to FILE" },
    { name: "progress", type: "string", valueHint: "auto|plain|json", description: "Progress output on stderr", default: "auto" },
    { name: "quiet", aliases: ["q"], type: "boolean", description: "Print only the digest" },
    ...REGISTRY_FLAGS,
  ],
};

/** `kb index <subcommand>`; only `create` for now. */
export async function runIndex(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h") {
    io.out(`Usage: kb index create -t REF SRC…\n\n${CREATE.summary}\n`);
    return sub ? 0 : 2;
  }
  if (sub !== "create") throw new KbError("USAGE", `Cannot run "kb index ${sub}": unknown subcommand`, { hint: 'use "kb index create"' });
  const p = parseCommandFlags(rest, CREATE, io);
  if (!p) return 0;
  const { f, args } = p;
  const targets = f.list("tag").map((t) => parseReference(t));
  if (!targets.length) throw new KbError("USAGE", 'Cannot run "kb index create": no -t REF to push the index to', { hint: CREATE.usage });
  const sources = args.map((a) => parseReference(a.replace(/^docker:\/\//, "")));
  const progress = progressFromFlags(f, io);
  const client = registryClientFromFlags(f, io, [...targets, ...sources].map((r) => r.registry), progress.onProgress);
  const result = await composeIndex(client, targets, sources);
  if (f.str("digest-file")) await writeFile(path.resolve(io.cwd, f.str("digest-file")!), result.digest);
  if (progress.mode !== "quiet") for (const e of result.entries) io.err(`  ${e.platform ? formatPlatform(e.platform) : "(no platform)"}  ${e.digest}\n`);
  io.out(`${result.digest}\n`);
  return 0;
}
