import { expect, test } from "bun:test";
import { IndexBuilder } from "./layer-index.ts";

test("an index keeps directory headers and links under any name a tar gives, __proto__ included", () => {
  const b = new IndexBuilder();
  b.add({ path: "./__proto__/", type: "dir", size: 0, mode: 0o40700, uid: 1, gid: 2, mtime: 3.5 });
  b.add({ path: "etc", type: "dir", size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 10 });
  b.add({ path: "constructor", type: "symlink", size: 0, linkname: "etc" });
  b.add({ path: "implied/child", type: "file", size: 0 });
  const idx = JSON.parse(JSON.stringify(b.finish())); // as the store keeps it
  expect(Object.hasOwn(idx.dirMeta, "__proto__")).toBe(true);
  expect(idx.dirMeta["__proto__"]).toEqual([0o700, 1, 2, 3]);
  expect(idx.dirMeta.etc).toEqual([0o755, 0, 0, 10]);
  expect(Object.hasOwn(idx.dirMeta, "implied")).toBe(false); // only implied by its child: no header to keep
  expect(idx.dirs).toContain("implied");
  expect(idx.links.constructor).toBe("etc");
});
