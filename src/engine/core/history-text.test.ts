import { describe, expect, test } from "bun:test";
import { goDuration, goList, goQuotedList, goRune, goSet, healthcheckText, runText } from "./history-text.ts";

describe("history texts as BuildKit (Go fmt) writes them", () => {
  test("lists, quoted lists and port sets", () => {
    expect(goList(["/bin/sh", "-ec"])).toBe("[/bin/sh -ec]");
    expect(goQuotedList(["/bin/sh", "-c", 'echo "hello world"'])).toBe('["/bin/sh" "-c" "echo \\"hello world\\""]');
    expect(goSet(["80/tcp", "443/tcp", "53/udp"])).toBe("map[443/tcp:{} 53/udp:{} 80/tcp:{}]");
  });
  test("durations, runes and HEALTHCHECK (observed from docker.io 20.10)", () => {
    expect(goDuration(0)).toBe("0s");
    expect(goDuration(5e9)).toBe("5s");
    expect(goDuration(90e9)).toBe("1m30s");
    expect(goDuration(3_600e9 + 1.5e9)).toBe("1h0m1.5s");
    expect(goDuration(500e6)).toBe("500ms");
    expect(goRune(4)).toBe("'\\x04'");
    expect(goRune(65)).toBe("'A'");
    expect(healthcheckText({ Test: ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"], Interval: 5e9, Timeout: 3e9, StartPeriod: 1e9, Retries: 4 }))
      .toBe(`HEALTHCHECK &{["CMD-SHELL" "wget -q -O- http://localhost/ || exit 1"] "5s" "3s" "1s" '\\x04'}`);
    expect(healthcheckText({ Test: ["NONE"] })).toBe(`HEALTHCHECK &{["NONE"] "0s" "0s" "0s" '\\x00'}`);
  });
  test("RUN with the stage's ARGs", () => {
    expect(runText(["/bin/sh", "-c", "echo $V"], [{ key: "V", value: "cli" }])).toBe("RUN |1 V=cli /bin/sh -c echo $V");
    expect(runText(["true"], [])).toBe("RUN true");
  });
});
