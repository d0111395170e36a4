// Uploads one blob: HEAD to skip, cross-repository mount, then a monolithic PUT or a streamed PATCH + PUT.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs

import { KbError } from "../errors.ts";
import type { Reference } from "../image/reference.ts";
import type { Digest } from "../image/types.ts";
import { readBounded } from "./_verify.ts";
import type { RegistryClient, RegistryResponse } from "./client.ts";

/** A blob to push: its digest, size, a fresh stream per call, and where it may already live. */
export interface BlobSource {
  digest: Digest;
  size: number;
  open(signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** Another repository of the same registry holding the blob (for a mount). */
  mountFrom?: Reference;
}

/** Blobs up to this size go up in one PUT; larger ones are streamed with PATCH. */
export const MONOLITHIC_MAX = 1024 * 1024;

/** How a blob reached the registry. */
export type UploadOutcome = "exists" | "mounted" | "uploaded";

function location(r: RegistryResponse, what: string): string {
  const loc = r.res.headers.get("location");
  if (!loc) throw new KbError("REGISTRY_PROTOCOL", `Cannot push blob "${what}": ${r.res.status} answer without a Location header`);
  return new URL(loc, r.url).toString();
}

function withDigestParam(url: string, d: Digest): string {
  const u = new URL(url);
  u.searchParams.set("digest", d);
  return u.toString();
}

function counting(src: ReadableStream<Uint8Array>, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  let n = 0;
  return src.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        n += chunk.length;
        onBytes(n);
        ctl.enqueue(chunk);
      },
    }),
  );
}

async function attempt(client: RegistryClient, ref: Reference, blob: BlobSource, signal?: AbortSignal): Promise<UploadOutcome> {
  const base = { registry: ref.registry, repository: ref.repository, push: true, subject: `${ref.name()}@${blob.digest}`, signal };
  const head = await client.request({ ...base, method: "HEAD", path: `/v2/${ref.repository}/blobs/${blob.digest}`, action: "check blob", accept: [200, 404] });
  if (head.res.status === 200) return "exists";
  let session: RegistryResponse;
  const from = blob.mountFrom;
  if (from && from.registry === ref.registry && from.repository !== ref.repository) {
    session = await client.request({
      ...base,
      method: "POST",
      path: `/v2/${ref.repository}/blobs/uploads/?mount=${blob.digest}&from=${encodeURIComponent(from.repository)}`,
      extraScopes: [`repository:${from.repository}:pull`],
      action: "mount blob",
      accept: [201, 202],
    });
    await session.res.body?.cancel().catch(() => {});
    if (session.res.status === 201) return "mounted";
  } else {
    session = await client.request({ ...base, method: "POST", path: `/v2/${ref.repository}/blobs/uploads/`, action: "start blob upload", accept: [202] });
    await session.res.body?.cancel().catch(() => {});
  }
  let loc = location(session, blob.digest);
  try {
    let last = 0;
    const progress = (n: number) => {
      if (n - last >= 1 << 20 || n === blob.size) {
        last = n;
        client.progress({ id: blob.digest, action: "push", done: n, total: blob.size, finished: n === blob.size });
      }
    };
    const stream = counting(await blob.open(signal), progress);
    const octet = { "Content-Type": "application/octet-stream" };
    if (blob.size <= MONOLITHIC_MAX) {
      const bytes = await readBounded(stream, MONOLITHIC_MAX, () => new KbError("INTERNAL", `Cannot push blob "${blob.digest}": larger than its declared size`));
      const put = await client.request({ ...base, method: "PUT", url: withDigestParam(loc, blob.digest), headers: octet, body: bytes, action: "push blob", accept: [201] });
      await put.res.body?.cancel().catch(() => {});
      return "uploaded";
    }
    const patch = await client.request({ ...base, method: "PATCH", url: loc, headers: octet, body: stream, action: "push blob", accept: [202] });
    await patch.res.body?.cancel().catch(() => {});
    loc = location(patch, blob.digest);
    const put = await client.request({ ...base, method: "PUT", url: withDigestParam(loc, blob.digest), headers: { "Content-Length": "0" }, action: "finish blob upload", accept: [201] });
    await put.res.body?.cancel().catch(() => {});
    return "uploaded";
  } catch (e) {
    if (!signal?.aborted)
      await client.request({ ...base, method: "DELETE", url: loc, action: "cancel blob upload", accept: [204, 404, 400, 405] }).then((r) => r.res.body?.cancel(), () => {});
    throw e;
  }
}

/** Pushes one blob, restarting the whole upload (with a fresh stream) on temporary failures. */
export async function uploadBlob(client: RegistryClient, ref: Reference, blob: BlobSource, signal?: AbortSignal): Promise<UploadOutcome> {
  for (let i = 0; ; i++) {
    try {
      return await attempt(client, ref, blob, signal);
    } catch (e) {
      // BLOB_UPLOAD_UNKNOWN: the session is gone, often because a retried request already finished it; the next attempt's HEAD tells.
      const sessionGone = e instanceof KbError && /BLOB_UPLOAD_UNKNOWN/.test(e.message);
      if (signal?.aborted || !(e instanceof KbError) || !(e.temporary || sessionGone) || i >= client.retries) throw e;
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** i)));
    }
  }
}

/** Runs tasks with at most `limit` in flight; the first failure rejects (others still settle). */
export async function runLimited<T>(limit: number, items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}
