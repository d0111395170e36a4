// `kb warm --image REF… --cache-dir DIR`: Kaniko's warmer (`/kaniko/warmer` in the executor images is kb too):
// pulls each base image into the store ahead of the builds, which then find its layers there.

import { KbError } from "../../errors.ts";
import type { CliIo } from "../io.ts";
import { parseCommandFlags, PROGRESS_FLAGS, REGISTRY_FLAGS, type CommandHelp } from "./_common.ts";
import { runPull } from "./image-commands.ts";

const WARM: CommandHelp = {
  name: "warm",
  args: [0, 0],
  usage: "kb warm --image REF [--image REF…] [--cache-dir DIR] [--platform P]   (Kaniko's warmer flags)",
  summary: "Pull base images into the store ahead of builds (Kaniko's warmer)",
  specs: [
    { name: "image", aliases: ["i"], type: "string", repeatable: true, valueHint: "REF", description: "Image to pull into the store" },
    { name: "cache-dir", aliases: ["c"], type: "string", valueHint: "DIR", description: "Store to fill (default ~/.cache/kb, $KB_CACHE_DIR)" },
    { name: "platform", aliases: ["custom-platform", "customPlatform"], type: "string", valueHint: "os/arch[/variant]", description: "Platform to pull (default: this host's)" },
    { name: "force", aliases: ["f"], type: "boolean", notice: "accepted for Kaniko compatibility; kb checks each image by digest and fetches only missing layers", description: "" , hidden: true },
    { name: "verbosity", aliases: ["v"], type: "string", notice: "accepted for Kaniko compatibility", description: "", hidden: true },
    ...PROGRESS_FLAGS,
    ...REGISTRY_FLAGS,
  ],
};

/** Pulls every --image in turn with `kb pull`'s code; the exit code of the first failure, else 0. */
export async function runWarm(argv: string[], io: CliIo): Promise<number> {
  const p = parseCommandFlags(argv, WARM, io);
  if (!p) return 0;
  const { f } = p;
  const images = f.list("image");
  if (!images.length) throw new KbError("USAGE", 'Cannot run "kb warm": no --image given', { hint: WARM.usage });
  const pass: string[] = [];
  for (const name of ["cache-dir", "platform", "progress"]) if (f.str(name) !== undefined) pass.push(`--${name}`, f.str(name)!);
  if (f.bool("quiet")) pass.push("-q");
  for (const name of ["insecure-registry", "registry-certificate", "registry-mirror"]) for (const v of f.list(name)) pass.push(`--${name}`, v);
  if (f.bool("skip-tls-verify")) pass.push("--skip-tls-verify");
  for (const image of images) {
    const code = await runPull([image, ...pass], io);
    if (code !== 0) return code;
  }
  return 0;
}
