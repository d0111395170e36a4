// Builds the kb executor images with kb itself: stages rootfs/ (the binary as /kaniko/executor, the loader and
// libraries it links, CA certificates, /workspace, /kaniko/.docker; for --debug a static busybox and its applets
// under /busybox) next to executor/[debug.]Dockerfile, then runs `kb build` on it.
// Usage: bun scripts/build-executor.ts [--binary dist/kb] [--debug] [kb build flags…]
//   e.g. -t REG/kb-executor:TAG    or    --debug -t REG/kb-executor:debug

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
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

/** Options of {@link stageExecutorContext}. */
export interface ExecutorOptions {
  /** Add /busybox (a static busybox and its applets) for a shell. @default false */
  debug?: boolean;
  /** The static busybox to copy. @default "/bin/busybox" (Debian's busybox-static) */
  busybox?: string;
}

/** Stages the executor context into a temp dir and returns it. */
export function stageExecutorContext(binary: string, opts: ExecutorOptions = {}): string {
  const ctx = mkdtempSync(join(tmpdir(), "kb-executor-"));
  const root = join(ctx, "rootfs");
  const put = (inRoot: string, from: string, mode = 0o755) => {
    const dest = join(root, inRoot);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(from, dest);
    chmodSync(dest, mode);
  };
  put("/kaniko/executor", binary);
  for (const l of libs(binary)) put(l, l);
  const ca = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"].find(existsSync);
  if (ca) put("/kaniko/ssl/certs/ca-certificates.crt", ca, 0o644);
  for (const d of ["workspace", "kaniko/.docker", "kaniko/cache", "tmp", "root", "etc", "usr/local/bin"]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  // `kb` on PATH too; run under that name it is kb's full command line (kb build, kb version…).
  symlinkSync("/kaniko/executor", join(root, "kaniko/kb"));
  // Kaniko's warmer: the same binary, which reads the warmer's flags under that name.
  symlinkSync("/kaniko/executor", join(root, "kaniko/warmer"));
  writeFileSync(join(root, "etc/passwd"), `root:x:0:0:root:/root:${opts.debug ? "/busybox/sh" : "/kaniko/executor"}\n`);
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  writeFileSync(join(root, "kaniko/.docker/config.json"), "{}\n");
  if (opts.debug) {
    const bb = opts.busybox ?? "/bin/busybox";
    if (!existsSync(bb)) throw new Error(`${bb} does not exist: install busybox-static (a static busybox) for the debug image`);
    put("/busybox/busybox", bb);
    const applets = execFileSync(bb, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
    for (const a of applets) symlinkSync("busybox", join(root, "busybox", a));
  }
  copyFileSync(join(import.meta.dir, "../executor", opts.debug ? "debug.Dockerfile" : "Dockerfile"), join(ctx, "Dockerfile"));
  return ctx;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--binary");
  const binary = i >= 0 ? args.splice(i, 2)[1]! : join(import.meta.dir, "../dist/kb");
  const d = args.indexOf("--debug");
  const debug = d >= 0 && args.splice(d, 1).length > 0;
  if (!existsSync(binary)) throw new Error(`${binary} does not exist: run "bun build.ts" first`);
  const ctx = stageExecutorContext(binary, { debug });
  execFileSync(process.execPath, [join(import.meta.dir, "../src/main.ts"), "build", ...args, ctx], { stdio: "inherit" });
}
