// kb build's RUN network, end to end as root: the default network cannot reach the host's 127.0.0.1 (here the
// test registry), --network host can, and RUN --network=host needs --network host (BuildKit's network.host).

import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { findPasta, pastaBlocker } from "../../src/exec/network.ts";
import { kb, makeContext, tempDir } from "../kit/kb.ts";
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
});
