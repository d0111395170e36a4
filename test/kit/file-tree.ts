// Test helper: builds a small file tree in a temp dir from a compact description.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** "dir/" makes a dir, "a -> b" a symlink, "f=text" a file with content, "f" an empty file. */
export function makeTree(spec: string[]): { dir: string; done(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "kb-ctx-test-"));
  for (const s of spec) {
    if (s.endsWith("/")) mkdirSync(path.join(dir, s), { recursive: true });
    else if (s.includes(" -> ")) {
      const [p, t] = s.split(" -> ");
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      symlinkSync(t, path.join(dir, p));
    } else {
      const [p, text = ""] = s.split("=");
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      writeFileSync(path.join(dir, p), text);
    }
  }
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}
