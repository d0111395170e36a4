import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { collect, file, has, iter, run, tempDir } from "../../test/kit/tar-streams.ts";
import { createTarStream } from "./tar.ts";
import { writeLayer } from "./write-layer.ts";

const sha = (b: Uint8Array): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const entries = () => iter([file("a.txt", "hello\n".repeat(1000)), file("b/c.bin", new Uint8Array(70_000).fill(3))]);

describe("writeLayer()", () => {
  for (const compression of ["gzip", "zstd", "none"] as const) {
    test(`reports digest, diffID and sizes of a ${compression} layer`, async () => {
      let blob: Uint8Array = new Uint8Array(0);
      const tar = await collect(createTarStream(entries()));
      const r = await writeLayer(createTarStream(entries()), { compression }, async (s) => { blob = await collect(s); });
      expect(r.digest as string).toBe(sha(blob));
      expect(r.diffId as string).toBe(sha(tar));
      expect(r.size).toBe(blob.length);
      expect(r.uncompressedSize).toBe(tar.length);
      expect(r.mediaType).toBe(`application/vnd.oci.image.layer.v1.tar${compression === "none" ? "" : `+${compression}`}`);

      const dir = tempDir();
      const f = path.join(dir, "blob");
      writeFileSync(f, blob);
      expect(run("sha256sum", [f]).out.split(" ")[0]).toBe(r.digest.slice(7));
      const tool = compression === "gzip" ? "gunzip" : compression === "zstd" ? "zstd" : "cat";
      const plain = has(tool) ? run(tool, compression === "none" ? [f] : ["-dc", f]).raw
        : compression === "zstd" ? zlib.zstdDecompressSync(blob) : zlib.gunzipSync(blob);
      expect(sha(plain)).toBe(r.diffId as string);
      rmSync(dir, { recursive: true });
    });
  }
});
