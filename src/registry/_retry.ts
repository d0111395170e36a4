// Retry timing: exponential backoff with jitter, Retry-After honoured, a bounded total budget.

/** Retry policy of one client. */
export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** First delay in ms. */
  baseMs: number;
  /** Largest single delay in ms. */
  maxDelayMs: number;
  /** Largest total waiting per request in ms. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseMs: 200, maxDelayMs: 10_000, budgetMs: 60_000 };

/** Parses Retry-After (seconds or an HTTP date) to ms; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Delay before retry number `attempt` (0-based): full jitter over [d/2, d]. */
export function backoffDelay(p: RetryPolicy, attempt: number, retryAfterMs?: number, rnd = Math.random): number {
  const d = Math.min(p.maxDelayMs, p.baseMs * 2 ** attempt);
  const jittered = d / 2 + rnd() * (d / 2);
  return Math.min(p.maxDelayMs * 3, Math.max(jittered, retryAfterMs ?? 0));
}

/** Waits `ms`, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** True for errors of a request that never got an answer and may work on retry (resets, refused, timeouts). */
export function isRetryableNetworkError(e: unknown): boolean {
  if (!(e instanceof Error) || e.name === "AbortError") return false;
  const s = `${(e as { code?: string }).code ?? ""} ${e.message}`;
  if (/certificate|self.signed|UNABLE_TO_VERIFY|DEPTH_ZERO/i.test(s)) return false;
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket|closed|reset|network|ConnectionRefused|timed out|fetch failed|Unable to connect/i.test(s);
}
