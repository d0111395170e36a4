import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_NAMESERVERS, hostResolvConf, runResolvConf } from "./resolv-conf.ts";

const defaults = DEFAULT_NAMESERVERS.map((n) => `nameserver ${n}\n`).join("");

describe("a RUN's resolv.conf (BuildKit's FilterResolvDNS)", () => {
  test("in its own network, loopback nameservers go; with none left, the public defaults come; search and options stay", () => {
    expect(runResolvConf("# NetworkManager\nnameserver 127.0.1.1\nnameserver ::1\nsearch lan\noptions edns0\n", "sandbox"))
      .toBe(`# NetworkManager\nsearch lan\noptions edns0\n${defaults}`);
    expect(runResolvConf("nameserver 127.0.0.1\nnameserver 10.0.0.2\n", "sandbox")).toBe("nameserver 10.0.0.2\n");
    expect(runResolvConf("nameserver fe80::1%eth0\nnameserver 10.255.255.53", "none")).toBe(`nameserver 10.255.255.53`);
    expect(runResolvConf("", "sandbox")).toBe(defaults);
  });

  test("on the host network the host's file stays as it is, unless it names no nameserver", () => {
    expect(runResolvConf("nameserver 127.0.0.53\noptions trust-ad\n", "host")).toBe("nameserver 127.0.0.53\noptions trust-ad\n");
    expect(runResolvConf("search lan", "host")).toBe(`search lan\n${defaults}`);
  });

  test("the host's list is the first file with text", async () => {
    const d = mkdtempSync(join(tmpdir(), "kb-resolv-"));
    try {
      writeFileSync(join(d, "empty"), "");
      writeFileSync(join(d, "r"), "nameserver 10.1.1.1\n");
      expect(await hostResolvConf([join(d, "missing"), join(d, "empty"), join(d, "r")])).toBe("nameserver 10.1.1.1\n");
      expect(await hostResolvConf([join(d, "missing")])).toBe("");
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
