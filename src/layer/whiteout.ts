// Whiteout names of the OCI layer format, and the overlayfs forms kb converts them to and from.
// https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts

/** Prefix of a whiteout file: `.wh.NAME` deletes NAME from lower layers. */
export const WHITEOUT_PREFIX = ".wh.";
/** A file of this name makes its directory opaque: lower-layer children are hidden. */
export const OPAQUE_WHITEOUT = ".wh..wh..opq";
/** Prefix of other AUFS metadata names (`.wh..wh.plnk` and the like), which are never real files. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";
/** Opaque-directory xattrs overlayfs reads: trusted.* as real root, user.* with `userxattr`. */
export const OVERLAY_OPAQUE_XATTR = { trusted: "trusted.overlay.opaque", user: "user.overlay.opaque" } as const;
/** The xattr form of a whiteout overlayfs accepts (kernel ≥ 6.7) where mknod 0/0 is not allowed. */
export const OVERLAY_WHITEOUT_XATTR = "user.overlay.whiteout";

function splitPath(p: string): [string, string] {
  const trimmed = p.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? ["", trimmed] : [trimmed.slice(0, i + 1), trimmed.slice(i + 1)];
}

/**
 * The whiteout path that deletes `path`.
 * @example whiteoutPathFor("etc/motd") // "etc/.wh.motd"
 */
export function whiteoutPathFor(path: string): string {
  const [dir, base] = splitPath(path);
  if (!base || base === "." || base === "..") throw new TypeError(`Cannot make a whiteout for "${path}": it has no base name`);
  return `${dir}${WHITEOUT_PREFIX}${base}`;
}

/** The opaque-whiteout path for directory `dir` ("" for the root). */
export function opaqueWhiteoutPathFor(dir: string): string {
  const d = dir.replace(/\/+$/, "");
  return d && d !== "." ? `${d}/${OPAQUE_WHITEOUT}` : OPAQUE_WHITEOUT;
}

/** True when the base name of `name` starts with `.wh.` (a whiteout, opaque or metadata). */
export function isWhiteout(name: string): boolean {
  return splitPath(name)[1].startsWith(WHITEOUT_PREFIX);
}

/** True when the base name of `name` is `.wh..wh..opq`. */
export function isOpaqueWhiteout(name: string): boolean {
  return splitPath(name)[1] === OPAQUE_WHITEOUT;
}

/**
 * What a whiteout path means: `{kind:"opaque", dir}`, `{kind:"delete", dir, target}` (target is the
 * base name to delete), `{kind:"meta"}` for other `.wh..wh.` names, or undefined for ordinary paths.
 * A bare `.wh.` or one naming `.`/`..` is invalid (the spec says to error) and returns `{kind:"invalid"}`.
 */
export function parseWhiteout(path: string):
  | { kind: "opaque"; dir: string }
  | { kind: "delete"; dir: string; target: string }
  | { kind: "meta" }
  | { kind: "invalid" }
  | undefined {
  const [dir, base] = splitPath(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const d = dir.replace(/\/+$/, "");
  if (base === OPAQUE_WHITEOUT) return { kind: "opaque", dir: d };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: "meta" };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (!target || target === "." || target === "..") return { kind: "invalid" };
  return { kind: "delete", dir: d, target };
}
