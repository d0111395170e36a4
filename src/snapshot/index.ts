// Snapshots: turning a finished RUN into tar entries, from an overlay upperdir or a stat walk.

export type { DiffEntry, IdMapper } from "./types.ts";
export { diffUpperDir, type UpperDiffOptions } from "./overlay-diff.ts";
export { diffAgainstIndex, indexTree, type StatWalkOptions, type TreeIndex } from "./stat-walk.ts";
export { openUpperSnapshot, type UpperSnapshot, type UpperSnapshotOptions } from "./upper-snapshot.ts";
export { parseXattrOutput, parseXattrScan, readXattrs, scanXattrs, type XattrMap, type XattrScan } from "./xattrs.ts";
export { canMapOwners, chownThroughMapping, type OwnerFix } from "./owner-map.ts";
