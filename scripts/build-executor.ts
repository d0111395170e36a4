// Builds the kb executor image with kb itself: stages rootfs/ (the binary, the loader and libraries it links,
// CA certificates, /workspace, /kb/.docker) next to executor/Dockerfile, then runs `kb build` on it.
// Usage: bun scripts/build-executor.ts [--binary dist/kb] [kb build flags…]   e.g. --output type=oci,dest=out --no-push

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Shared libraries and loader `ldd` lists for a binary. */
function libs(binary: string): string[] {
  let out = "";
  try {
    out = execFileSync("ldd", [binary], { encoding: "utf8" });
  } catch {
    return [];
  }
  return out.split("\n").flatMap((l) => {
    const m = /=>\s*(\/\S+)/.exec(l) ?? /^\s*(\/\S+)\s+\(/.exec(l);
    return m ? [m[1]!] : [];
  });
}

/** Stages the executor context into a temp dir and returns it. */
export function stageExecutorContext(binary: string): string {
  const ctx = mkdtempSync(join(tmpdir(), "kb-executor-"));
  const root = join(ctx, "rootfs");
  const put = (inRoot: string, from: string, mode = 0o755) => {
    const dest = join(root, inRoot);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(from, dest);
    chmodSync(dest, mode);
  };
  put("/kb/kb", binary);
  for (const l of libs(binary)) put(l, l);
  const ca = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"].find(existsSync);
  if (ca) put("/etc/ssl/certs/ca-certificates.crt", ca, 0o644);
  for (const d of ["workspace", "kb/.docker", "kb/cache", "tmp", "root", "etc"]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/kb/kb\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  writeFileSync(join(root, "kb/.docker/config.json"), "{}\n");
  copyFileSync(join(import.meta.dir, "../executor/Dockerfile"), join(ctx, "Dockerfile"));
  return ctx;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--binary");
  const binary = i >= 0 ? args.splice(i, 2)[1]! : join(import.meta.dir, "../dist/kb");
  if (!existsSync(binary)) throw new Error(`${binary} does not exist: run "bun build.ts" first`);
  const ctx = stageExecutorContext(binary);
  execFileSync(process.execPath, [join(import.meta.dir, "../src/main.ts"), "build", ...args, ctx], { stdio: "inherit" });
}
