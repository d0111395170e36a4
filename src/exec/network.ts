// The RUN network: "sandbox" (own network namespace, outbound through pasta), "host" or "none"; "default"
// picks sandbox when pasta is installed, else host with a warning that names the risk and the fix.

import { accessSync, constants } from "node:fs";
import path from "node:path";
import { KbError } from "../errors.ts";

/** What a RUN's network can be asked to be (`--network`). */
export type NetworkRequest = "default" | "sandbox" | "host" | "none";
/** What the sandbox actually does. */
export type RunNetwork = "sandbox" | "host" | "none";

/** The path of `pasta` (Debian/Ubuntu package `passt`), or undefined when it is not installed. */
export function findPasta(pathEnv = process.env.PATH ?? ""): string | undefined {
  const dirs = [...pathEnv.split(":").filter(Boolean), "/usr/bin", "/usr/sbin", "/bin", "/usr/local/bin"];
  for (const d of dirs) {
    const p = path.join(d, "pasta");
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why pasta cannot give this user a network here, or undefined when it can (it needs /dev/net/tun read-write). */
export function pastaBlocker(pasta: string | undefined, tun = "/dev/net/tun"): string | undefined {
  if (!pasta) return '"pasta" is not installed (apt-get install passt)';
  try {
    accessSync(tun, constants.R_OK | constants.W_OK);
    return undefined;
  } catch {
    return `${tun} is not readable and writable by this user (sudo chmod 0666 ${tun}, as Debian ships it)`;
  }
}

/** The warning printed once when "default" falls back to the host network. */
export const HOST_NETWORK_WARNING =
  "RUN shares the host network (it can reach services on this host's 127.0.0.1): install passt for an isolated network, or pass --network host to accept this";

/**
 * Resolves a requested network. "sandbox" without pasta throws; "default" without pasta falls back to
 * the host network and returns the warning to print.
 * @example resolveNetwork("default", findPasta()) // → { network: "sandbox" } where passt is installed
 */
export function resolveNetwork(req: NetworkRequest, pasta: string | undefined, blocker = pastaBlocker(pasta)): { network: RunNetwork; warning?: string } {
  if (req === "host" || req === "none") return { network: req };
  if (!blocker) return { network: "sandbox" };
  if (req === "sandbox") {
    throw new KbError("SANDBOX", `Cannot use --network sandbox: ${blocker}`, {
      hint: "install passt and make /dev/net/tun usable, or choose --network host or --network none",
    });
  }
  return { network: "host", warning: `${HOST_NETWORK_WARNING} (${blocker})` };
}
