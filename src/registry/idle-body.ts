// An idle timeout on a response body: a server that sends headers and part of a body, then nothing, must not
// hang kb. Every read has KB_REGISTRY_TIMEOUT seconds (default 60) to bring a byte; the timer only runs while
// the reader waits (highWaterMark 0), so a slow consumer never trips it.

/** Seconds a body read may wait for a byte (KB_REGISTRY_TIMEOUT, default 60). Read on each call. */
export function idleTimeoutSeconds(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.KB_REGISTRY_TIMEOUT);
  return Number.isFinite(n) && n > 0 ? n : 60;
}

/** A body read that got no byte within the idle timeout. Not a KbError: callers may resume or retry it. */
export class IdleTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly bytes: number,
    readonly seconds: number,
  ) {
    super(`no byte from ${url} for ${seconds} s after ${bytes} bytes`);
    this.name = "IdleTimeoutError";
  }
}

/** The hint every idle-timeout error carries. */
export const IDLE_HINT = "The server stopped sending; retry later, or set KB_REGISTRY_TIMEOUT=<seconds> to wait longer for a byte";

/** A URL without its query (signed redirect URLs carry credentials there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

/** `body`, failing with IdleTimeoutError when a read waits more than `seconds` for a byte. */
export function idleBody(body: ReadableStream<Uint8Array>, url: string, seconds = idleTimeoutSeconds()): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new IdleTimeoutError(displayUrl(url), bytes, seconds)), seconds * 1000);
        });
        try {
          const r = await Promise.race([reader.read(), idle]);
          if (r.done) return ctl.close();
          bytes += r.value.length;
          ctl.enqueue(r.value);
        } catch (e) {
          reader.cancel(e).catch(() => {});
          throw e;
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** The same response with its body under the idle timeout. */
export function withIdleBody(res: Response, url: string, seconds = idleTimeoutSeconds()): Response {
  if (!res.body || NULL_BODY.has(res.status)) return res;
  return new Response(idleBody(res.body, url, seconds), { status: res.status, statusText: res.statusText, headers: res.headers });
}
