import { describe, expect, test } from "bun:test";
import { kb } from "./_capture.ts";

describe("kb doctor", () => {
  test("`kb doctor` prints the isolation report and the mode auto picks", async () => {
    const r = await kb(["doctor"], { env: { KB_SANDBOX_HELPER: process.env.KB_SANDBOX_HELPER } });
    expect(r.out).toStartWith("RUN isolation\n");
    expect(r.out).toMatch(/user namespace \(1 id\)/);
    if (r.code === 0) expect(r.out).toMatch(/--isolation auto → (root|rootless|container)\n$/);
    else expect(r.out).toMatch(/--isolation auto: not possible here: /);
  });

  test("`kb doctor --isolation MODE --format json` reports the probe, and what that mode would do or why it cannot", async () => {
    for (const mode of ["root", "rootless", "container"]) {
      const r = await kb(["doctor", "--isolation", mode, "--format", "json"]);
      const j = JSON.parse(r.out);
      expect(j.requested).toBe(mode);
      expect(typeof j.report.uid).toBe("number");
      if (r.code === 0) expect(j.choice.mode).toBe(mode);
      else expect(j.error).toMatchObject({ code: "SANDBOX" });
    }
  });

  test("`kb doctor --isolation container --force` allows container mode outside a container", async () => {
    const r = await kb(["doctor", "--isolation", "container", "--force"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--isolation container → container");
    expect(r.out).toContain("warning: container mode runs RUN directly in /");
  });

  test("usage errors exit 2", async () => {
    expect((await kb(["doctor", "--isolation", "chroot"])).code).toBe(2);
    expect((await kb(["doctor", "extra"])).code).toBe(2);
    expect((await kb(["doctor", "--format", "yaml"])).code).toBe(2);
  });
});
