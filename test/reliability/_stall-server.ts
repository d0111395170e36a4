// Servers that misbehave in time and size: a proxy in front of a real registry that sends the headers and half
// of chosen bodies then goes silent (for a number of times, or forever), and an origin for ADD <url> with a
// stalling body and an endless body.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface StallServer {
  host: string;
  url: string;
  /** Bodies cut and left silent so far. */
  stalls: number;
  /** Requests that carried a Range header. */
  ranges: number;
  stop(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ host: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * A proxy to `upstream` that, for requests `match` accepts, sends the status, headers and the first half of
 * the body, then nothing (the socket stays open) — `times` times, then it forwards normally.
 */
export async function startStallProxy(upstream: string, match: (method: string, path: string) => boolean, times = Infinity): Promise<StallServer> {
  const up = new URL(upstream);
  let self = "";
  const state = { stalls: 0, ranges: 0 };
  const srv = await listen((req, res) => {
    if (req.headers.range) state.ranges++;
    const stall = match(req.method ?? "GET", req.url ?? "/") && state.stalls < times;
    const fwd = httpRequest({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      const headers = { ...ures.headers };
      if (typeof headers.location === "string") headers.location = headers.location.replace(up.host, self);
      res.writeHead(ures.statusCode ?? 502, headers);
      if (!stall) return void ures.pipe(res);
      state.stalls++;
      const total = Number(ures.headers["content-length"] ?? 0);
      let sent = 0;
      ures.on("data", (chunk: Buffer) => {
        if (sent >= Math.floor(total / 2)) return;
        const part = chunk.subarray(0, Math.max(0, Math.floor(total / 2) - sent));
        sent += part.length;
        res.write(part);
      });
    });
    fwd.on("error", () => req.socket.destroy());
    req.pipe(fwd);
  });
  self = srv.host;
  return {
    host: srv.host,
    url: `http://${srv.host}`,
    get stalls() {
      return state.stalls;
    },
    get ranges() {
      return state.ranges;
    },
    stop: srv.close,
  };
}

/** An origin for ADD: /stall sends headers (Content-Length 1 MiB) and 10 bytes then nothing; /endless never ends. */
export async function startBadOrigin(): Promise<StallServer> {
  const state = { stalls: 0, ranges: 0 };
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const srv = await listen((req, res) => {
    if (req.url === "/stall") {
      state.stalls++;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(1 << 20) });
      res.write("0123456789");
      return;
    }
    if (req.url === "/endless") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      return pump();
    }
    res.writeHead(404).end();
  });
  return {
    host: srv.host,
    url: `http://${srv.host}`,
    get stalls() {
      return state.stalls;
    },
    get ranges() {
      return 0;
    },
    stop: srv.close,
  };
}
