// The CLI's I/O seam: commands write through this, so tests can capture output.

import { Readable } from "node:stream";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  stdin?: ReadableStream<Uint8Array>;
  isTTY: boolean;
  cwd: string;
}

export function processIo(): CliIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    // Made only when a command reads it (a context of "-"), so nothing else waits on stdin.
    get stdin() {
      return Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
    },
  };
}
