// The kb-sandbox helper's client: where the binary is, its config records, the id maps it works with, and the
// privileged tree operations it does for a rootless caller. Used by the sandbox (src/exec/) and by snapshots
// (src/snapshot/); it imports neither. The helper's C source is in src/exec/helper/.

export { helperArch, helperCacheDir, resolveHelperPath } from "./helper-path.ts";
export { hostToContainer, singleIdMapping, subidMapping, type IdMapping, type IdRange } from "./ids.ts";
export { parseUnlockOutput, relockTree, removeTree, splitNulFields, unlockTree, type ModeOverrides, type TreeAccessOptions } from "./tree-access.ts";
