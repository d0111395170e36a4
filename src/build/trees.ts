// Extracted filesystems: a stage's layers unpacked once into the store (trees/<chain id>) and reused,
// for COPY --from and as the root of RUN. Extraction is safe: nothing lands outside the tree.

import { createHash } from "node:crypto";
import { mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { extractTar } from "../layer/index.ts";
import type { EngineEnv } from "./engine-types.ts";
import { addTiming } from "./engine-types.ts";
import type { StageLayer } from "./stage-state.ts";

/** The chain id of a layer stack (OCI image-spec config.md: ChainID). */
export function chainId(diffIds: string[]): string {
  let chain = "";
  for (const d of diffIds) chain = chain ? `sha256:${createHash("sha256").update(`${chain} ${d}`).digest("hex")}` : d;
  return chain;
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/**
 * Returns a directory holding the merged filesystem of `layers` (whiteouts applied), extracting it once.
 * Owners are kept when kb runs as root; otherwise files belong to the caller.
 */
export async function mergedTree(env: EngineEnv, layers: StageLayer[]): Promise<string> {
  const id = chainId(layers.map((l) => l.diffId)).replace(/^sha256:/, "") || "empty";
  const dir = join(env.store.dirs.trees, `merged-${id}`);
  const done = await stat(join(dir, ".kb-complete")).then(() => true, () => false);
  if (done) {
    await utimes(dir, new Date(), new Date()).catch(() => undefined);
    return join(dir, "root");
  }
  return env.store.withLock(`tree-merged-${id}`, async () => {
    if (await stat(join(dir, ".kb-complete")).then(() => true, () => false)) return join(dir, "root");
    const t0 = performance.now();
    const tmp = env.store.tempPath("-tree");
    await mkdir(join(tmp, "root"), { recursive: true });
    try {
      for (const l of layers) {
        await extractTar(await l.layer.uncompressed(env.signal), join(tmp, "root"), {
          whiteouts: "apply",
          chown: isRoot(),
          devices: isRoot() ? "create" : "skip",
          onWarning: (m) => env.sink.emit({ type: "warning", message: m }),
        });
      }
      await mkdir(join(tmp, ".kb-complete"));
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
    addTiming(env, "extract", performance.now() - t0);
    return join(dir, "root");
  });
}
