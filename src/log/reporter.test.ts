import { describe, expect, test } from "bun:test";
import { createReporter } from "./reporter.ts";

describe("createReporter()", () => {
  test("plain mode prints step lines, CACHED marks, per-blob progress and the result", () => {
    let out = "";
    const r = createReporter({ mode: "plain", write: (t) => void (out += t), tty: false });
    r.emit({ type: "step-start", stage: "build", stageIndex: 1, stageCount: 3, step: 4, stepCount: 9, text: "COPY src/ /app/" });
    r.emit({ type: "step-end", stage: "build", step: 4, cached: true, ms: 1, text: "COPY src/ /app/" });
    r.emit({ type: "progress", id: "sha256:abc", action: "push", done: 2_000_000, total: 2_000_000, finished: true });
    r.emit({ type: "warning", message: "careful", line: 3 });
    r.emit({ type: "result", digest: "sha256:d", size: 1000, refs: ["r/a:1"], ms: 1500 });
    expect(out).toContain("[build 2/3] [4/9] COPY src/ /app/");
    expect(out).toContain("CACHED COPY src/ /app/");
    expect(out).toContain("push sha256:abc 2.0 MB/2.0 MB");
    expect(out).toMatch(/warn.*Dockerfile:3: careful/);
    expect(out).toContain("image sha256:d (1.0 kB) in 1.5s → r/a:1");
  });
  test("json mode writes one JSON object per event", () => {
    let out = "";
    const r = createReporter({ mode: "json", write: (t) => void (out += t) });
    r.emit({ type: "info", message: "hi" });
    const line = JSON.parse(out.trim());
    expect(line.type).toBe("info");
    expect(line.message).toBe("hi");
    expect(typeof line.time).toBe("string");
  });
});

test("`createReporter()` prints a RUN's output in whole lines, however the chunks fall", () => {
  let out = "";
  const r = createReporter({ mode: "plain", write: (t) => void (out += t), tty: false });
  const o = (stream: "stdout" | "stderr", text: string) => r.emit({ type: "step-output", stage: "stage-0", step: 2, stream, text });
  o("stderr", "/usr/bin/ld");
  o("stdout", "building\n");
  o("stderr", ": cannot open output file\nsecond ");
  o("stderr", "line without end");
  r.emit({ type: "step-end", stage: "stage-0", step: 2, cached: false, ms: 1, text: "RUN make" });
  expect(out).toBe("building\n/usr/bin/ld: cannot open output file\nsecond line without end\n");
});
