// The resolv.conf a RUN sees: the host's, filtered as BuildKit filters it (executor/oci/resolvconf.go calls
// libnetwork's FilterResolvDNS when the RUN has its own network): loopback nameservers (a local dnsmasq,
// systemd-resolved's stub, unbound on 127.0.0.1) cannot be reached from the RUN's namespace, so they are dropped,
// and a file left with no nameserver gets Google's public resolvers. On the host network the file is kept as it
// is (a loopback resolver is reachable there). pasta's --dns-forward would keep a loopback resolver, but Debian
// 12's passt (2023-03-09) forwards the query and drops the answer (docs/decisions/101-run-network-pasta.md).

import { readFile } from "node:fs/promises";
import type { RunNetwork } from "./network.ts";

/** Where the host's resolver list is read: systemd-resolved's upstream list first, then /etc/resolv.conf. */
export const HOST_RESOLV_FILES = ["/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"];

/** libnetwork's defaults when no nameserver is left (IPv4 and IPv6, as BuildKit passes ipv6Enabled=true). */
export const DEFAULT_NAMESERVERS = ["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"];

const NAMESERVER = /^\s*nameserver\s+(\S+)/;
const unreachable = (addr: string) => /^127\./.test(addr) || addr === "::1" || /^fe80:.*%/i.test(addr);

/**
 * The RUN's resolv.conf from the host's text: as it is on the host network (when it names a nameserver); in the
 * RUN's own network without loopback (and zoned link-local) nameservers; with DEFAULT_NAMESERVERS when none is left.
 * @example runResolvConf("nameserver 127.0.0.53\nsearch lan\n", "sandbox") // "search lan\n\nnameserver 8.8.8.8\n…"
 */
export function runResolvConf(host: string, network: RunNetwork): string {
  if (network === "host" && NAMESERVER.test(host.split("\n").find((l) => NAMESERVER.test(l)) ?? "")) return host;
  const kept = host.split("\n").filter((l) => !unreachable(NAMESERVER.exec(l)?.[1] ?? ""));
  const text = kept.join("\n");
  if (kept.some((l) => NAMESERVER.test(l))) return text;
  return `${text}${text.endsWith("\n") || text === "" ? "" : "\n"}${DEFAULT_NAMESERVERS.map((n) => `nameserver ${n}\n`).join("")}`;
}

/** The host's resolver list: the first of `files` that has text (empty when none has). */
export async function hostResolvConf(files = HOST_RESOLV_FILES): Promise<string> {
  for (const f of files) {
    const t = await readFile(f, "utf8").catch(() => undefined);
    if (t) return t;
  }
  return "";
}
