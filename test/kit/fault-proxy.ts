// An HTTP proxy in front of a real registry that injects faults by a seeded schedule: resets before or
// after the registry saw the request, drops mid-body, stalls, 5xx/429 with Retry-After, corrupt bytes,
// a wrong Docker-Content-Digest. For retry, resume and "nothing corrupt is kept" tests.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { prng } from "./random-image.ts";

/** The faults the proxy can inject. */
export type FaultKind =
  | "status" // 500/502/503/429 (429 and 503 with Retry-After), request not forwarded
  | "reset-before" // connection closed before forwarding (e.g. before the manifest)
  | "reset-after" // forwarded and answered by the registry, then the connection is closed unanswered
  | "drop-mid-body" // response body cut in the middle, connection closed
  | "stall" // response held for stallMs before the body continues
  | "corrupt" // one byte of a blob body flipped (wrong digest)
  | "wrong-digest"; // Docker-Content-Digest of a manifest replaced

export const ALL_FAULTS: FaultKind[] = ["status", "reset-before", "reset-after", "drop-mid-body", "stall", "corrupt", "wrong-digest"];

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The registry's base URL ("http://127.0.0.1:PORT"). */
  upstream: string;
  seed: number;
  /** Share of requests that get a fault. @default 0.15 */
  rate?: number;
  /** Faults to draw from. @default ALL_FAULTS */
  faults?: FaultKind[];
  /** Longest stall in ms. @default 1500 */
  stallMs?: number;
}

/** One injected fault. */
export interface FaultEvent { n: number; method: string; path: string; kind: FaultKind; detail?: string }

export interface FaultProxy {
  /** "127.0.0.1:PORT" of the proxy: use it as the registry host. */
  host: string;
  url: string;
  requests: number;
  events: FaultEvent[];
  /** Events counted by kind. */
  counts(): Record<string, number>;
  /** Turns faults off (or on again) without restarting. */
  setRate(rate: number): void;
  stop(): Promise<void>;
}

const isBlobGet = (m: string, p: string) => m === "GET" && /\/blobs\/sha256:[0-9a-f]{64}/.test(p);
const isManifest = (p: string) => /\/manifests\//.test(p);

function applicable(kind: FaultKind, method: string, path: string): boolean {
  if (path === "/v2/" || path.startsWith("/v2/?")) return kind === "status" || kind === "reset-before";
  switch (kind) {
    case "drop-mid-body":
    case "stall":
      return method === "GET";
    case "corrupt":
      return isBlobGet(method, path);
    case "wrong-digest":
      return (method === "GET" || method === "HEAD") && isManifest(path);
    default:
      return true;
  }
}

/**
 * Starts the proxy on 127.0.0.1 and a free port.
 * @example const p = await startFaultProxy({ upstream: reg.url, seed: 1 }); … pull from p.host …; await p.stop()
 */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const rnd = prng(opts.seed);
  let rate = opts.rate ?? 0.15;
  const faults = opts.faults ?? ALL_FAULTS;
  const stallMs = opts.stallMs ?? 1500;
  const upstream = new URL(opts.upstream);
  const events: FaultEvent[] = [];
  const sockets = new Set<Socket>();
  let requests = 0;
  let self = "";

  const forward = (req: IncomingMessage, res: ServerResponse, kind: FaultKind | undefined) => {
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (ures) => {
        if (kind === "reset-after") {
          ures.resume();
          ures.on("end", () => req.socket.destroy());
          return;
        }
        const headers = { ...ures.headers };
        if (typeof headers.location === "string") headers.location = headers.location.replace(upstream.host, self);
        if (kind === "wrong-digest" && headers["docker-content-digest"]) headers["docker-content-digest"] = `sha256:${"e".repeat(64)}`;
        res.writeHead(ures.statusCode ?? 502, headers);
        const total = Number(ures.headers["content-length"] ?? 0);
        let sent = 0;
        let faulted = false;
        ures.on("data", (chunk: Buffer) => {
          if (faulted && kind === "drop-mid-body") return;
          let out = chunk;
          const mid = total > 1 && sent + chunk.length >= total / 2 && !faulted;
          if (mid && kind === "drop-mid-body") {
            faulted = true;
            res.write(chunk.subarray(0, Math.max(0, Math.floor(total / 2) - sent)));
            ures.destroy();
            req.socket.destroy();
            return;
          }
          if (mid && kind === "corrupt") {
            faulted = true;
            out = Buffer.from(chunk);
            const at = Math.max(0, Math.min(out.length - 1, Math.floor(total / 2) - sent));
            out[at] ^= 0x5a;
          }
          if (mid && kind === "stall") {
            faulted = true;
            ures.pause();
            setTimeout(() => ures.resume(), Math.floor(rnd() * stallMs));
          }
          sent += chunk.length;
          res.write(out);
        });
        ures.on("end", () => res.end());
        ures.on("error", () => req.socket.destroy());
      },
    );
    up.on("error", () => req.socket.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    const n = ++requests;
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    let kind: FaultKind | undefined;
    if (rnd() < rate) {
      const options = faults.filter((k) => applicable(k, method, path));
      if (options.length) kind = options[Math.floor(rnd() * options.length)];
    }
    if (!kind) return forward(req, res, undefined);
    const ev: FaultEvent = { n, method, path: path.replace(/\?.*$/, ""), kind };
    events.push(ev);
    if (kind === "status") {
      const status = [500, 502, 503, 429][Math.floor(rnd() * 4)];
      ev.detail = String(status);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (status === 429 || status === 503) headers["retry-after"] = String(Math.floor(rnd() * 2));
      req.resume();
      res.writeHead(status, headers);
      res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "injected by the fault proxy" }] }));
      return;
    }
    if (kind === "reset-before") {
      req.socket.destroy();
      return;
    }
    forward(req, res, kind);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  self = `127.0.0.1:${port}`;
  return {
    host: self,
    url: `http://${self}`,
    get requests() {
      return requests;
    },
    events,
    counts() {
      const c: Record<string, number> = {};
      for (const e of events) c[e.kind] = (c[e.kind] ?? 0) + 1;
      return c;
    },
    setRate(r) {
      rate = r;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
