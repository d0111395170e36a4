// Removing a tree this user unpacked: extractTar keeps an archive's modes, so a directory may have come out without
// write or search permission (a context tar's 0644 "dir", a staged secret's 0500 dir). Root removes such a tree
// anyway; anyone else gets EACCES from rm and would leave it behind.

import { chmod, lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Removes `path` like `rm -rf`; when that fails with EACCES/EPERM, gives the user's own directories below it u+rwx
 * (symlinks not followed) and removes again. Trees owned by other ids (a user namespace's) need helper/removeTree.
 * @example await removeOwnTree(tempContextDir)
 */
export async function removeOwnTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw e;
    await openDirs(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function openDirs(path: string): Promise<void> {
  const st = await lstat(path);
  if (!st.isDirectory()) return;
  await chmod(path, (st.mode & 0o7777) | 0o700);
  for (const name of await readdir(path)) await openDirs(join(path, name));
}
