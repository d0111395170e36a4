// Compressed members a rebuilt layer takes from the blob the same instruction made last time, instead of
// compressing them again: a COPY of 5,000 files with one file changed compresses the member holding that file,
// not 50 MB (docs/decisions/134-unpack-speed-and-bench-deletes.md).

import { closeSync, openSync, readSync } from "node:fs";
import { DEFAULT_LEVEL, MAX_MEMBER, type MemberEntry, type MemberReuse } from "../../layer/index.ts";
import { gzipLibrary } from "../../runtime.ts";
import { sha256Digest } from "../../image/digest.ts";
import { isDigest, type Digest } from "../../image/types.ts";
import type { Store } from "../../store/index.ts";
import { cacheKey } from "../core/cache-key.ts";
import type { LayerSettings } from "./layers.ts";

/** What a "layer-members" record holds: the last blob made for a slot and its members in order. */
interface MembersRecord {
  blob: Digest;
  members: Pick<MemberEntry, "sha" | "length" | "csha">[];
}

/**
 * The record key of a slot (an instruction over a parent, without its sources' content) for the bytes a member
 * compresses to: algorithm, level and deflate library decide them.
 */
export function membersKey(slot: string, s: LayerSettings): string {
  return cacheKey("", "layer-members-v2", slot, s.compression, s.level ?? DEFAULT_LEVEL[s.compression], gzipLibrary);
}

/** Reads `length` bytes at `offset` of a stored blob; undefined when the blob is gone or shorter. */
function readRange(store: Store, blob: Digest, offset: number, length: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(store.path(blob), "r");
  } catch {
    return undefined;
  }
  try {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, offset + got);
      if (n === 0) return undefined;
      got += n;
    }
    return out;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A MemberReuse over the last blob recorded for `key`, and `save(blob)` to record this build's blob for the next.
 * A member is taken only when the bytes read back hash to what was recorded; anything missing or different is
 * compressed again, so a stale record or a pruned blob costs time, never a wrong layer.
 */
export async function openMemberReuse(store: Store, key: string): Promise<{ reuse: MemberReuse; save: (blob: Digest) => Promise<void> }> {
  const rec = await store.cache.get(key).catch(() => undefined);
  const known = new Map<string, { offset: number; length: number; csha: string }>();
  const last = rec?.kind === "layer-members" ? (rec.data as MembersRecord) : undefined;
  if (last && isDigest(last.blob) && Array.isArray(last.members)) {
    // A record is only a hint (a damaged one must not make the build read gigabytes): lengths are checked here,
    // bytes when a member is taken.
    let offset = 0;
    for (const m of last.members) {
      if (!m || !Number.isSafeInteger(m.length) || m.length <= 0 || m.length > MAX_MEMBER + (MAX_MEMBER >> 4)) break;
      if (typeof m.sha === "string" && m.sha && typeof m.csha === "string") known.set(m.sha, { offset, length: m.length, csha: m.csha });
      offset += m.length;
    }
  }
  let members: MemberEntry[] | undefined;
  const reuse: MemberReuse = {
    find(sha) {
      const m = known.get(sha);
      if (!m || !last) return undefined;
      const bytes = readRange(store, last.blob, m.offset, m.length);
      if (!bytes || sha256Digest(bytes) !== m.csha) return undefined;
      return { bytes, csha: m.csha };
    },
    done: (all) => void (members = all),
  };
  const save = async (blob: Digest) => {
    // A layer of one member has nothing to take next time: its change is that member.
    if (!members || members.filter((m) => m.sha).length < 2) return;
    const data: MembersRecord = { blob, members: members.map(({ sha, length, csha }) => ({ sha, length, csha })) };
    await store.cache.put(key, { kind: "layer-members", data, refs: [blob] }).catch(() => undefined);
  };
  return { reuse, save };
}
