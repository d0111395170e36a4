// Snapshots: turning a finished RUN into tar entries, from an overlay upperdir or a stat walk.

export type { DiffEntry, IdMapper } from "./types.ts";
export { diffUpperDir, type UpperDiffOptions } from "./overlay-diff.ts";
export { diffAgainstIndex, indexTree, type StatWalkOptions, type TreeIndex } from "./stat-walk.ts";
export { parseXattrOutput, readXattrs, type XattrMap } from "./xattrs.ts";
