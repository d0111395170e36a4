// kb build's RUN network, end to end as root: the default network cannot reach the host's 127.0.0.1 (here the
// test registry), --network host can, and RUN --network=host needs --network host (BuildKit's network.host).

import { beforeAll, describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findPasta, pastaBlocker } from "../../src/exec/network.ts";
import { kb, makeContext, tempDir, unpackLayout } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";

const skip = process.getuid?.() !== 0 ? "not root" : pastaBlocker(findPasta());
if (skip) console.log(`network.test.ts: skipped: ${skip}`);
const reg = useRegistryWithBusybox({ skip });
beforeAll(async () => {
  if (skip) return;
}, 120_000);

const build = (ctx: string, ...flags: string[]) =>
  kb(["build", "--cache-dir", tempDir("kb-cache-"), "--progress", "plain", ...flags, "--no-push", "--output", `type=oci,dest=${join(tempDir(), "oci")}`, ctx]);

describe.skipIf(!!skip)("kb build RUN network", () => {
  test("default: own network namespace, the host's 127.0.0.1 registry is out of reach; --network host reaches it", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN wget -q -O- http://${reg.host}/v2/_catalog\n` });
    const d = await build(ctx);
    expect(d.err).toContain("RUN network: sandbox");
    expect(d.code).not.toBe(0);
    expect(d.err).toMatch(/Connection refused|can't connect/);
    const h = await build(ctx, "--network", "host");
    expect(h.err).toContain("RUN network: host");
    expect(h.err).toContain("repositories");
    expect(h.code).toBe(0);
  }, 120_000);

  test("RUN --network=host is refused unless the build allows the host network", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN --network=host true\n` });
    const r = await build(ctx);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("Cannot run RUN --network=host");
    expect(r.err).toContain("--network host");
    expect((await build(ctx, "--network", "host")).code).toBe(0);
  }, 120_000);

  test("a host whose only nameserver is on its loopback: the RUN's own network gets BuildKit's public defaults; --network host asks it", async () => {
    // A one-name DNS server on the host's 127.0.0.1:53, as a local dnsmasq or unbound would be.
    const server = createSocket("udp4");
    server.on("message", (q, peer) => {
      const qend = q.indexOf(0, 12) + 5; // the question: name, type, class
      const isA = q.readUInt16BE(qend - 4) === 1;
      const head = Buffer.from([q[0]!, q[1]!, 0x81, 0x80, 0, 1, 0, isA ? 1 : 0, 0, 0, 0, 0]);
      const answer = isA ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]) : Buffer.alloc(0);
      server.send(Buffer.concat([head, q.subarray(12, qend), answer]), peer.port, peer.address);
    });
    const bound = await new Promise<string | undefined>((res) => {
      server.once("error", (e) => res((e as Error).message));
      server.bind(53, "127.0.0.1", () => res(undefined));
    });
    try {
      const resolv = join(tempDir(), "resolv.conf");
      writeFileSync(resolv, "nameserver 127.0.0.1\noptions ndots:0\n");
      const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN cat /etc/resolv.conf > /dns.txt; nslookup -type=a kb-dns-test.example >> /dns.txt 2>&1 || true\n` });
      const run = async (...flags: string[]) => {
        const out = join(tempDir(), "oci");
        const r = await kb(["build", "--cache-dir", tempDir("kb-cache-"), "--no-push", ...flags, "--output", `type=oci,dest=${out}`, ctx], { KB_HOST_RESOLV_CONF: resolv });
        expect(r.code).toBe(0);
        return readFileSync(join(unpackLayout(out, "latest"), "dns.txt"), "utf8");
      };
      const own = await run();
      expect(own).toStartWith("options ndots:0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
      expect(own).not.toContain("127.0.0.1");
      const host = await run("--network", "host");
      expect(host).toStartWith("nameserver 127.0.0.1\noptions ndots:0\n");
      if (bound) console.log(`network.test.ts: the host-network lookup not checked: cannot listen on 127.0.0.1:53 (${bound})`);
      else expect(host).toContain("10.1.2.3");
    } finally {
      server.close();
    }
  }, 120_000);
});
