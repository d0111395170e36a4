import { describe, expect, test } from "bun:test";
import { KbError } from "../errors.ts";
import { pastaBlocker, resolveNetwork } from "./network.ts";

describe("resolveNetwork()", () => {
  test("default is the isolated network when pasta works, else the host network with a warning naming risk and fix", () => {
    expect(resolveNetwork("default", "/usr/bin/pasta", undefined)).toEqual({ network: "sandbox" });
    const r = resolveNetwork("default", undefined);
    expect(r.network).toBe("host");
    expect(r.warning).toContain("127.0.0.1");
    expect(r.warning).toContain("install passt");
  });

  test("sandbox without pasta fails with the reason; host and none are taken as asked", () => {
    expect(() => resolveNetwork("sandbox", undefined)).toThrow(KbError);
    expect(() => resolveNetwork("sandbox", "/usr/bin/pasta", "/dev/net/tun is not readable")).toThrow(/dev\/net\/tun/);
    expect(resolveNetwork("host", undefined)).toEqual({ network: "host" });
    expect(resolveNetwork("none", undefined)).toEqual({ network: "none" });
  });

  test("pastaBlocker() names a missing pasta and an unusable tun device", () => {
    expect(pastaBlocker(undefined)).toContain("apt-get install passt");
    expect(pastaBlocker("/usr/bin/pasta", "/nonexistent/tun")).toContain("chmod 0666");
  });
});
