// Registry passwords, bearer tokens and --secret values never appear in logs (every verbosity and format),
// errors, the report, history, layers, the store (cache keys included) or the pushed image: every output
// and every file kb wrote is searched for the secret bytes (gzip blobs searched decompressed too).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { cleanup, kb, makeContext, tempDir, type KbRun } from "../kit/kb.ts";
import { useRegistryWithBusybox } from "../kit/registry-fixture.ts";
import { record } from "./_record.ts";

const reg = useRegistryWithBusybox({ flavour: "token" });
const dirs: string[] = [];
const secretValue = `kb-secret-${randomBytes(12).toString("hex")}`;
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/;
let needles: string[] = [];
let scanned = { files: 0, bytes: 0, outputs: 0 };

/** The first needle (or JWT) found in `text`, with where. */
function leak(where: string, bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes).toString("latin1");
  for (const n of needles) if (text.includes(n)) return `${where} contains "${n}"`;
  if (JWT.test(text)) return `${where} contains a JWT "${text.match(JWT)![0].slice(0, 40)}…"`;
  return undefined;
}

/** Searches every regular file under `dir` (gzip content decompressed as well). */
function scanTree(dir: string): string[] {
  const found: string[] = [];
  const walk = (p: string) => {
    for (const n of readdirSync(p)) {
      const f = path.join(p, n);
      const st = lstatSync(f);
      if (st.isDirectory()) walk(f);
      else if (st.isFile()) {
        let b: Uint8Array = readFileSync(f);
        scanned.files++;
        scanned.bytes += b.length;
        const hit = leak(f, b);
        if (hit) found.push(hit);
        if (b[0] === 0x1f && b[1] === 0x8b) {
          try {
            b = gunzipSync(b);
            scanned.bytes += b.length;
            const h2 = leak(`${f} (gunzipped)`, b);
            if (h2) found.push(h2);
          } catch {
            // not a whole gzip stream
          }
        }
      }
    }
  };
  walk(dir);
  return found;
}

function scanRun(what: string, r: KbRun): string[] {
  scanned.outputs++;
  return [leak(`${what} stdout`, Buffer.from(r.out)), leak(`${what} stderr`, Buffer.from(r.err))].filter((x): x is string => !!x);
}

beforeAll(async () => {
  const pair = `${reg.username}:${reg.password}`;
  needles = [reg.password!, Buffer.from(pair).toString("base64"), secretValue, Buffer.from(secretValue).toString("base64")];
});
afterAll(async () => {
  cleanup(...dirs);
});

describe("secrets stay secret", () => {
  test("password, tokens and --secret values appear in no output, report, store file, layer or registry blob", async () => {
    const work = tempDir("kb-secrets-");
    dirs.push(work);
    const cache = path.join(work, "cache");
    const inputs = tempDir("kb-secrets-in-"); // the secrets' own files: not searched
    dirs.push(inputs);
    const cfgDir = path.join(inputs, "docker");
    const badDir = path.join(inputs, "docker-bad");
    for (const [d, pw] of [[cfgDir, reg.password!], [badDir, `${reg.password}-wrong`]] as const) {
      mkdirSync(d);
      writeFileSync(path.join(d, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${pw}`).toString("base64") } } }));
    }
    needles.push(`${reg.password}-wrong`, Buffer.from(`${reg.username}:${reg.password}-wrong`).toString("base64"));
    const secretFile = path.join(inputs, "secret.txt");
    writeFileSync(secretFile, secretValue);
    const ctx = makeContext({
      Dockerfile: `FROM ${reg.base}
ARG NOT_SECRET=1
RUN --mount=type=secret,id=s test "$(wc -c < /run/secrets/s)" -gt 10 && echo secret-was-readable
RUN --mount=type=secret,id=s,env=S_ENV sh -c 'test -n "$S_ENV" && echo env-secret-set'
COPY f /f
`,
      f: "file",
    });
    dirs.push(ctx);
    const env = { DOCKER_CONFIG: cfgDir };
    const common = ["build", "--cache-dir", cache, "--secret", `id=s,src=${secretFile}`, ctx];
    const found: string[] = [];
    expect(leak("self-check", Buffer.from(`x eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJrYi10ZXN0In0.c2lnbmF0dXJl ${secretValue}`))).toBeDefined();
    const runs: Array<[string, string[], Record<string, string>]> = [
      ["trace/plain", ["--verbosity", "trace", "--progress", "plain", "--report", path.join(work, "report.json"), "-t", `${reg.host}/secrets/img:1`], env],
      ["debug/json", ["--verbosity", "debug", "--log-format", "json", "--report", path.join(work, "report.html"), "-t", `${reg.host}/secrets/img:2`, "-o", `type=oci,dest=${path.join(work, "oci")}`], env],
      ["no-cache/info", ["--no-cache", "--verbosity", "info", "-t", `${reg.host}/secrets/img:3`], env],
      ["wrong password", ["--verbosity", "trace", "--no-cache", "-t", `${reg.host}/secrets/img:4`], { DOCKER_CONFIG: badDir }],
      ["KB_REGISTRY_AUTH", ["--verbosity", "trace", "-t", `${reg.host}/secrets/img:5`], { DOCKER_CONFIG: path.join(work, "none"), KB_REGISTRY_AUTH: JSON.stringify({ [reg.host]: { username: reg.username, password: reg.password } }) }],
    ];
    const codes: string[] = [];
    for (const [name, args, e] of runs) {
      const r = await kb([...common.slice(0, -1), ...args, ctx], e);
      codes.push(`${name}: ${r.code}`);
      if (name !== "wrong password") expect({ name, code: r.code, err: r.code ? r.err.slice(-1500) : "" }).toEqual({ name, code: 0, err: "" });
      else expect(r.code).not.toBe(0);
      found.push(...scanRun(name, r));
    }
    const failing = makeContext({ Dockerfile: `FROM ${reg.base}\nRUN --mount=type=secret,id=s sh -c 'exit 3'\n` });
    dirs.push(failing);
    const rf = await kb(["build", "--cache-dir", cache, "--verbosity", "trace", "--secret", `id=s,src=${secretFile}`, "--no-push", failing], env);
    expect(rf.code).not.toBe(0);
    found.push(...scanRun("failing RUN", rf));
    found.push(...scanTree(work), ...scanTree(reg.dataDir));
    record("secrets", "builds searched", runs.length + 1, codes.join("; "));
    record("secrets", "files searched", scanned.files, `${Math.round(scanned.bytes / 1024)} KiB incl. gunzipped blobs, ${scanned.outputs} stdout/stderr pairs, ${needles.length} needles + JWT pattern`);
    record("secrets", "leaks found", found.length, found.slice(0, 3).join(" | "));
    expect(found).toEqual([]);
  }, 240_000);
});
