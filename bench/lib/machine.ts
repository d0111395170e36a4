// Describes the machine a bench ran on: CPU model and count, memory, kernel, load at start.

import { readFileSync } from "node:fs";
import os from "node:os";

/** Cores, memory, kernel and load average, for the results file and bench/README.md. */
export function describeMachine(): Record<string, string | number> {
  const cpus = os.cpus();
  let distro = "";
  try {
    distro = /PRETTY_NAME="([^"]*)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {
    // not Linux with os-release
  }
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    os: distro,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(" "),
  };
}
