// TarEntry: kb's description of one tar archive member, shared by the writer, the reader and extraction.

/** The kinds of tar members kb reads and writes. */
export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

/**
 * One tar member. Paths carry no trailing slash (directories get one in the header).
 * `xattrs` values are byte strings: each char code (0–255) is one byte, so binary values
 * such as `security.capability` round-trip; a value with a char above 255 is written as UTF-8.
 */
export interface TarEntry {
  path: string;
  type: TarEntryType;
  /** Permission bits plus setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Bytes of content; 0 for everything but files. */
  size: number;
  /** Seconds since the epoch, may be fractional. */
  mtime: number;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  /** Extra PAX records (keys kb does not map to fields), written and read back verbatim. */
  pax?: Record<string, string>;
}
