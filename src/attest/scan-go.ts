// Go binaries: the build info the Go linker embeds (Go ≥ 1.18 inline form) after the "\xff Go buildinf:" magic.
// Format: https://go.dev/src/debug/buildinfo/buildinfo.go (32-byte header, then two uvarint-length strings).

import type { FoundPackage, Scanner } from "./package.ts";

const MAGIC = Uint8Array.from("\xff Go buildinf:", (c) => c.charCodeAt(0));
/** Executables smaller than this are not Go programs (a Go hello-world is ~1.5 MB): not read. */
const MIN_SIZE = 512 << 10;
const MAX_TAIL = 1 << 20;

function uvarint(b: Uint8Array, off: number): [number, number] | undefined {
  let x = 0;
  let s = 0;
  for (let i = off; i < b.length && i < off + 10; i++) {
    x += (b[i]! & 0x7f) * 2 ** s;
    if (b[i]! < 0x80) return [x, i + 1];
    s += 7;
  }
  return undefined;
}

/** Parses the header at `i`: the Go version and module info, "short" when more bytes are needed, undefined if no match. */
export function parseBuildInfo(b: Uint8Array, i: number): { goVersion: string; modinfo: string } | "short" | undefined {
  if (b.length < i + 33) return "short";
  const ptr = b[i + 14]!;
  const flags = b[i + 15]!;
  if ((ptr !== 4 && ptr !== 8) || !(flags & 2)) return undefined;
  const v = uvarint(b, i + 32);
  if (!v) return "short";
  if (b.length < v[1] + v[0]) return v[0] > MAX_TAIL ? undefined : "short";
  const m = uvarint(b, v[1] + v[0]);
  if (!m) return "short";
  if (b.length < m[1] + m[0]) return m[0] > MAX_TAIL ? undefined : "short";
  const dec = new TextDecoder();
  let modinfo = dec.decode(b.subarray(m[1], m[1] + m[0]));
  // The linker wraps modinfo in 16-byte sentinels.
  if (m[0] >= 33 && b[m[1] + m[0] - 17] === 0x0a) modinfo = dec.decode(b.subarray(m[1] + 16, m[1] + m[0] - 16));
  return { goVersion: dec.decode(b.subarray(v[1], v[1] + v[0])), modinfo };
}

function indexOfMagic(b: Uint8Array, from: number): number {
  outer: for (let i = b.indexOf(0xff, from); i >= 0 && i + MAGIC.length <= b.length; i = b.indexOf(0xff, i + 1)) {
    for (let j = 1; j < MAGIC.length; j++) if (b[i + j] !== MAGIC[j]) continue outer;
    return i;
  }
  return -1;
}

/** Finds the build info in an executable stream (ELF only), reading as little as it can; cancels the rest. */
export async function readGoBuildInfo(body: ReadableStream<Uint8Array>): Promise<{ goVersion: string; modinfo: string } | undefined> {
  const reader = body.getReader();
  let buf = new Uint8Array(0);
  let first = true;
  let found = -1;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      if (first) {
        first = false;
        if (!(value[0] === 0x7f && value[1] === 0x45 && value[2] === 0x4c && value[3] === 0x46)) return undefined;
      }
      const joined = new Uint8Array(buf.length + value.length);
      joined.set(buf);
      joined.set(value, buf.length);
      buf = joined;
      for (;;) {
        if (found < 0) found = indexOfMagic(buf, 0);
        if (found < 0) {
          buf = buf.slice(Math.max(0, buf.length - MAGIC.length));
          break;
        }
        const r = parseBuildInfo(buf, found);
        if (r === "short") {
          if (buf.length - found > MAX_TAIL) return undefined;
          break;
        }
        if (r) return r;
        buf = buf.slice(found + 1);
        found = -1;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Scanner of Go binaries: the main module and every dependency module with its version. */
export function goScanner(): Scanner {
  const found = new Map<string, FoundPackage>();
  return {
    name: "go",
    wants: (_path, e) => (e.mode & 0o111) !== 0 && e.size >= MIN_SIZE,
    async parse(_path, _e, body) {
      const info = await readGoBuildInfo(body);
      if (!info) return null; // not Go: nothing to keep, but the path still hides lower copies
      const mods: [string, string][] = [];
      for (const line of info.modinfo.split("\n")) {
        const [kind, mod, version] = line.split("\t");
        if ((kind === "mod" || kind === "dep") && mod && version) mods.push([mod, version]);
      }
      return { go: info.goVersion, mods };
    },
    add(path, data, layer) {
      if (!data) return;
      const d = data as { go: string; mods: [string, string][] };
      for (const [mod, version] of d.mods) {
        const key = `${mod}@${version}`;
        if (!found.has(key)) found.set(key, { type: "golang", name: mod, version, path, layer, source: d.go });
      }
    },
    packages: () => [...found.values()],
  };
}
