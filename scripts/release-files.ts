// The release folder install.sh needs: the binaries, each also gzip-compressed (NAME.gz), install.sh itself,
// and SHA256SUMS over all of them. Used by build.ts for every non-host target.

import { createHash } from "node:crypto";
import { copyFileSync, createReadStream, createWriteStream, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

async function sha256File(p: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** One file of the release folder. */
export interface ReleaseFile {
  name: string;
  size: number;
  sha256: string;
}

/**
 * Completes a release folder holding `binaries` (file names in `outdir`): writes NAME.gz for each (gzip -6,
 * streamed), copies install.sh, and writes SHA256SUMS (`sha256  name` lines, as sha256sum prints them).
 * @example await writeReleaseFiles("rel", ["kb-linux-x64", "kb-linux-arm64"])
 */
export async function writeReleaseFiles(outdir: string, binaries: string[], installScript = join(import.meta.dir, "../install.sh")): Promise<ReleaseFile[]> {
  const names: string[] = [];
  for (const b of binaries) {
    await pipeline(createReadStream(join(outdir, b)), createGzip({ level: 6 }), createWriteStream(join(outdir, `${b}.gz`)));
    names.push(b, `${b}.gz`);
  }
  copyFileSync(installScript, join(outdir, "install.sh"));
  names.push(basename("install.sh"));
  const files: ReleaseFile[] = [];
  for (const name of names) files.push({ name, size: statSync(join(outdir, name)).size, sha256: await sha256File(join(outdir, name)) });
  writeFileSync(join(outdir, "SHA256SUMS"), files.map((f) => `${f.sha256}  ${f.name}\n`).join(""));
  return files;
}
