// `kb build --report`: the HTML and JSON build report of a two-stage build, and the HTML page rendered by
// headless Chromium (screenshot + DOM). Set KB_REPORT_SCREENSHOT=FILE to keep the screenshot (docs/report-screenshot.png).

import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { kb, makeContext, tempDir } from "../kit/kb.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => existsSync(p));
if (!CHROMIUM) console.log("skip: report rendering tests need Chromium: run `apt-get install chromium` (Debian)");

const reg = useRegistryWithBusybox();
let dir: string;
let digest: string;
let html: string;
let json: Record<string, unknown>;
let rebuiltDigest: string;

const STEPS = ["COPY notes.txt /build/notes.txt", "RUN wc -c /build/notes.txt > /build/size", "COPY --from=builder /build/size /size", "ENV MODE=report"];

beforeAll(async () => {
  dir = tempDir("kb-report-");
  const ctx = makeContext({
    Dockerfile: `FROM ${reg.base} AS builder\n${STEPS[0]}\n${STEPS[1]}\nFROM ${reg.base}\n${STEPS[2]}\n${STEPS[3]}\n`,
    "notes.txt": "kb build report test\n".repeat(100),
  });
  const cache = tempDir("kb-cache-");
  const common = ["build", "--cache-dir", cache, "--progress", "plain", "-t", `${reg.host}/tests/report:1`, "--digest-file", join(dir, "digest")];
  const a = await kb([...common, "--report", join(dir, "out.html"), ctx]);
  if (a.code !== 0) throw new Error(`kb build failed:\n${a.err}`);
  digest = readFileSync(join(dir, "digest"), "utf8").trim();
  html = readFileSync(join(dir, "out.html"), "utf8");
  const b = await kb([...common, "--report", join(dir, "out.json"), ctx]);
  if (b.code !== 0) throw new Error(`kb build failed:\n${b.err}`);
  json = JSON.parse(readFileSync(join(dir, "out.json"), "utf8"));
  rebuiltDigest = readFileSync(join(dir, "digest"), "utf8").trim();
}, 120_000);

describe("kb build --report", () => {
  test("`--report out.html` writes one self-contained page with the digest, both stages' steps and the push", () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain(digest);
    for (const s of STEPS) expect(html).toContain(s.replace(/>/g, "&#62;"));
    expect(html).toContain(`${reg.host}/tests/report:1`);
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
  });

  test("`--report out.json` on a rebuild names the rebuilt digest, every step cached, and layer sizes", () => {
    expect(json.digest).toBe(rebuiltDigest);
    const steps = json.steps as { stage: string; text: string; cached: boolean; start: number; end: number }[];
    for (const s of STEPS.filter((x) => !x.startsWith("ENV"))) expect(steps.find((x) => x.text === s)?.cached).toBe(true);
    expect(new Set(steps.map((s) => s.stage)).size).toBe(2);
    for (const s of steps) expect(s.end).toBeGreaterThanOrEqual(s.start);
    const layers = json.layers as { digest: string; size: number }[];
    expect(layers.length).toBeGreaterThan(0);
    for (const l of layers) expect(l.size).toBeGreaterThan(0);
    expect(json.pushed).toEqual([`${reg.host}/tests/report:1`]);
  });

  const chromium = (args: string[]) => spawnSync(CHROMIUM!, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", `--user-data-dir=${tempDir("kb-chromium-")}`, "--window-size=1000,1400", ...args,
  ], { encoding: "utf8", timeout: 90_000, maxBuffer: 16 << 20 });

  test.skipIf(!CHROMIUM)("headless Chromium renders the HTML report: a non-trivial screenshot and a DOM with the digest and the steps", () => {
    const png = join(dir, "report.png");
    chromium([`--screenshot=${png}`, `file://${join(dir, "out.html")}`]);
    expect(existsSync(png)).toBe(true);
    const bytes = readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(statSync(png).size).toBeGreaterThan(20_000);
    if (process.env.KB_REPORT_SCREENSHOT) copyFileSync(png, process.env.KB_REPORT_SCREENSHOT);
    const dom = chromium(["--dump-dom", `file://${join(dir, "out.html")}`]);
    expect(dom.stdout).toContain(digest);
    for (const s of STEPS) expect(dom.stdout).toContain(s.replace(/>/g, "&gt;"));
    expect(dom.stdout).toContain("step timeline");
  }, 120_000);
});
