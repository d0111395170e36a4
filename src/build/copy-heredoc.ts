// COPY <<EOF sources: inline files written at DEST (a directory) or as DEST.

import type { SourceContent } from "../dockerfile/index.ts";
import type { TarInput } from "../layer/index.ts";
import { destPath, type EntryOptions } from "./copy-entries.ts";

/** Tar inputs for heredoc sources (mode 0644 before --chmod, as BuildKit writes them). */
export async function* heredocSources(contents: SourceContent[], destRel: string, destIsDir: boolean, o: EntryOptions): AsyncGenerator<TarInput> {
  for (const c of contents) {
    const body = new TextEncoder().encode(c.data);
    const mode = o.chmod ? o.chmod(0o644, false) & 0o7777 : 0o644;
    const path = destIsDir ? destPath(destRel, c.path) : destRel;
    yield { entry: { path, type: "file", mode, uid: o.uid, gid: o.gid, size: body.length, mtime: o.mtimeClamp ?? Math.floor(Date.now() / 1000) }, body };
  }
}
