// RUN --mount=type=ssh reaches only an agent the caller forwarded with --ssh (Docker's rule: kb's own SSH_AUTH_SOCK
// never reaches a Dockerfile by itself), and --add-host adds /etc/hosts lines to every RUN and to its cache key.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, makeContext, tempDir, unpackFromRegistry } from "../kit/kb.ts";
import { rootlessSkipReason } from "../kit/users.ts";

const skip = rootlessSkipReason();
if (skip) console.log(`run-ssh-and-hosts.test.ts: skipped: ${skip}`);

const reg = useRegistryWithBusybox({ skip });
let cache: string;
let sockDir: string;
let agent: Server;
let sock: string;

beforeAll(async () => {
  if (skip) return;
  cache = tempDir("kb-cache-");
  sockDir = mkdtempSync(join(tmpdir(), "kb-agent-"));
  sock = join(sockDir, "agent.sock");
  agent = createServer((c) => c.end());
  await new Promise<void>((r) => agent.listen(sock, r));
});
afterAll(() => {
  agent?.close();
  if (sockDir) rmSync(sockDir, { recursive: true, force: true });
});

const PROBE = `RUN --mount=type=ssh (test -S /run/buildkit/ssh_agent.0 && echo socket || echo none) > /ssh && echo "env=$SSH_AUTH_SOCK" >> /ssh`;

describe.skipIf(!!skip)("RUN --mount=type=ssh and --add-host", () => {
  test("the caller's SSH_AUTH_SOCK alone reaches no RUN; --ssh default forwards it", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\n${PROBE}\n` });
    const env = { SSH_AUTH_SOCK: sock };
    const without = `${reg.host}/ssh/without:1`;
    // In kb's own process environment too (kb runs in-process here): nothing may pick the agent up from there.
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = sock;
    const r1 = await kb(["build", "--cache-dir", cache, "--progress", "plain", "-t", without, ctx], env).finally(() => {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    });
    expect(r1.code).toBe(0);
    expect(readFileSync(join(unpackFromRegistry(without), "ssh"), "utf8")).toBe("none\nenv=\n");
    const withSsh = `${reg.host}/ssh/with:1`;
    const r2 = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--ssh", "default", "-t", withSsh, ctx], env);
    expect(r2.code).toBe(0);
    expect(readFileSync(join(unpackFromRegistry(withSsh), "ssh"), "utf8")).toBe("socket\nenv=/run/buildkit/ssh_agent.0\n");
  });

  test("required=true without --ssh fails at the RUN's line and names the flag; a non-socket --ssh is refused", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN --mount=type=ssh,id=git,required=true true\n` });
    const r = await kb(["build", "--cache-dir", cache, "--no-push", ctx], { SSH_AUTH_SOCK: sock });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('Cannot mount ssh "git"');
    expect(r.err).toContain("Dockerfile:2");
    expect(r.err).toContain("--ssh git=");
    const bad = await kb(["build", "--cache-dir", cache, "--no-push", "--ssh", `default=${join(ctx, "Dockerfile")}`, ctx]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("is not an ssh-agent socket");
  });

  test("--add-host lines are in every RUN's /etc/hosts and in its cache key; a bad one is a usage error", async () => {
    const ctx = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN grep -v localhost /etc/hosts > /hosts\n` });
    const ref = `${reg.host}/hosts/a:1`;
    const r1 = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--add-host", "registry.local:10.1.2.3", "--add-host", "v6.local=fd00::1", "-t", ref, ctx]);
    expect(r1.code).toBe(0);
    expect(readFileSync(join(unpackFromRegistry(ref), "hosts"), "utf8")).toBe("10.1.2.3\tregistry.local\nfd00::1\tv6.local\n");
    const ref2 = `${reg.host}/hosts/b:1`;
    const r2 = await kb(["build", "--cache-dir", cache, "--progress", "plain", "--add-host", "registry.local:10.9.9.9", "-t", ref2, ctx]);
    expect(r2.code).toBe(0);
    expect(r2.err + r2.out).not.toContain("CACHED RUN");
    expect(readFileSync(join(unpackFromRegistry(ref2), "hosts"), "utf8")).toBe("10.9.9.9\tregistry.local\n");
    for (const v of ["nocolon", "h:not-an-ip", "h:host-gateway"]) {
      const bad = await kb(["build", "--cache-dir", cache, "--no-push", "--add-host", v, ctx]);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain("--add-host");
    }
  });
});
