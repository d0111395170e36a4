import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Digest as sha } from "../../image/digest.ts";
import { gzipMember } from "../../runtime.ts";
import { openStore } from "../../store/index.ts";
import { membersKey, openMemberReuse } from "./member-reuse.ts";

/** A store holding one blob of two gzip members, and the members' uncompressed and compressed bytes. */
async function fixture() {
  const store = await openStore(mkdtempSync(join(tmpdir(), "kb-members-")));
  const raw = [new TextEncoder().encode("a".repeat(5000)), new TextEncoder().encode("b".repeat(7000))];
  const gz = raw.map((r) => gzipMember(r, 6));
  const blob = new Uint8Array(gz[0]!.length + gz[1]!.length);
  blob.set(gz[0]!);
  blob.set(gz[1]!, gz[0]!.length);
  const { digest } = await store.put(new Blob([blob]).stream());
  const key = membersKey("slot", { compression: "gzip" });
  return { store, raw, gz, digest, key };
}

describe("member reuse", () => {
  test("a member recorded last time is read back from the last blob; one not recorded is not", async () => {
    const { store, raw, gz, digest, key } = await fixture();
    const first = await openMemberReuse(store, key);
    first.reuse.done(raw.map((r, i) => ({ sha: sha(r), size: r.length, length: gz[i]!.length, csha: sha(gz[i]!) })));
    await first.save(digest);
    const next = await openMemberReuse(store, key);
    expect(next.reuse.find(sha(raw[1]!), raw[1]!.length)).toEqual({ bytes: gz[1]!, csha: sha(gz[1]!) });
    expect(next.reuse.find(sha(new Uint8Array(3)), 3)).toBeUndefined();
  });

  test("a damaged record (wrong hash, absurd length, pruned blob) is compressed again, never read wrong or huge", async () => {
    const { store, raw, gz, digest, key } = await fixture();
    const put = (members: unknown[], blob = digest) => store.cache.put(key, { kind: "layer-members", data: { blob, members }, refs: [blob] });
    await put([{ sha: sha(raw[0]!), length: gz[0]!.length, csha: `sha256:${"0".repeat(64)}` }]);
    expect((await openMemberReuse(store, key)).reuse.find(sha(raw[0]!), raw[0]!.length)).toBeUndefined();
    await put([{ sha: sha(raw[0]!), length: 2 ** 40, csha: sha(gz[0]!) }]);
    expect((await openMemberReuse(store, key)).reuse.find(sha(raw[0]!), raw[0]!.length)).toBeUndefined();
    await put([{ sha: sha(raw[0]!), length: gz[0]!.length, csha: sha(gz[0]!) }], `sha256:${"1".repeat(64)}`);
    expect((await openMemberReuse(store, key)).reuse.find(sha(raw[0]!), raw[0]!.length)).toBeUndefined();
    await put([null, "x", { sha: sha(raw[1]!), length: gz[1]!.length, csha: sha(gz[1]!) }]);
    expect((await openMemberReuse(store, key)).reuse.find(sha(raw[1]!), raw[1]!.length)).toBeUndefined();
  });

  test("a layer of one member leaves no record", async () => {
    const { store, raw, gz, digest, key } = await fixture();
    const one = await openMemberReuse(store, key);
    one.reuse.done([{ sha: sha(raw[0]!), size: raw[0]!.length, length: gz[0]!.length, csha: sha(gz[0]!) }]);
    await one.save(digest);
    expect(await store.cache.get(key)).toBeUndefined();
  });
});
