// Id maps: the user namespace maps a rootless sandbox and the helper's tree operations use, and
// host → container translation for diffs.

/** One contiguous id range: container ids `inside..inside+count-1` are host ids `outside..`. */
export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

/** The user namespace maps of a rootless sandbox. */
export interface IdMapping {
  uids: IdRange[];
  gids: IdRange[];
  /** Paths of setuid newuidmap/newgidmap; absent means the helper writes a single-id map itself. */
  newuidmap?: string;
  newgidmap?: string;
}

/** The overflow id the kernel shows for unmapped ids. */
export const OVERFLOW_ID = 65534;

function toInside(ranges: IdRange[], id: number): number {
  for (const r of ranges) if (id >= r.outside && id < r.outside + r.count) return r.inside + (id - r.outside);
  return OVERFLOW_ID;
}

/**
 * Translates host ids found in an upperdir back to container ids; identity without a map.
 * @example hostToContainer(map)(100999, 100999) // → [1000, 1000] for 1→100000
 */
export function hostToContainer(map: IdMapping | undefined): (uid: number, gid: number) => [number, number] {
  if (!map) return (uid, gid) => [uid, gid];
  return (uid, gid) => [toInside(map.uids, uid), toInside(map.gids, gid)];
}

/** The single-id map: container root is the caller, nothing else exists. */
export function singleIdMapping(uid: number, gid: number): IdMapping {
  return { uids: [{ inside: 0, outside: uid, count: 1 }], gids: [{ inside: 0, outside: gid, count: 1 }] };
}

/** Root is the caller, 1..count are the subordinate range (written by newuidmap/newgidmap). */
export function subidMapping(uid: number, gid: number, sub: { uid: IdRange["outside"]; gid: number; count: number },
  tools: { newuidmap: string; newgidmap: string }): IdMapping {
  return {
    uids: [{ inside: 0, outside: uid, count: 1 }, { inside: 1, outside: sub.uid, count: sub.count }],
    gids: [{ inside: 0, outside: gid, count: 1 }, { inside: 1, outside: sub.gid, count: sub.count }],
    ...tools,
  };
}
