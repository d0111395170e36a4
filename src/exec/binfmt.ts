// Cross-architecture RUN: finds the binfmt_misc emulator (qemu-user-static) the kernel would use for a platform.
// https://docs.kernel.org/admin-guide/binfmt-misc.html

import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { KbError } from "../errors.ts";
import { formatPlatform, hostPlatform, normalizePlatform } from "../image/platform.ts";
import type { Platform } from "../image/types.ts";

/** Where the kernel exposes binfmt_misc. */
export const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";

/** One registered binfmt_misc handler (a file under /proc/sys/fs/binfmt_misc). */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  /** Flag letters: F (interpreter opened at registration: works inside any root), P, C, O. */
  flags: string;
  offset: number;
  magic: Uint8Array;
  mask: Uint8Array;
}

/** What binfmt_misc holds: whether it is mounted and enabled, and its magic-number handlers. */
export interface BinfmtState {
  mounted: boolean;
  enabled: boolean;
  entries: BinfmtEntry[];
}

/** The emulator a RUN goes through. */
export interface Emulator {
  /** The entry's name, e.g. "qemu-aarch64". */
  name: string;
  interpreter: string;
  flags: string;
}

function hex(s: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Parses the text of one binfmt_misc entry file. Returns undefined for extension-matching entries and for
 * text that is not an entry (nothing else in kb depends on them).
 * @example parseBinfmtEntry("qemu-aarch64", "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\nmagic 7f45\n")
 */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry | undefined {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== "enabled" && lines[0] !== "disabled") return undefined;
  const field = (key: string) => lines.find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`))?.slice(key.length).replace(/^:?\s*/, "");
  const interpreter = field("interpreter");
  const magic = hex(field("magic") ?? "");
  if (!interpreter || !magic) return undefined;
  const maskText = field("mask");
  const mask = maskText === undefined ? new Uint8Array(magic.length).fill(0xff) : hex(maskText);
  if (!mask || mask.length !== magic.length) return undefined;
  const offset = Number(field("offset") ?? "0");
  if (!Number.isInteger(offset) || offset < 0 || offset > 4096) return undefined;
  const flags = (field("flags") ?? "").replace(/[^A-Z]/g, "");
  return { name, enabled: lines[0] === "enabled", interpreter, flags, offset, magic, mask };
}

/** Reads every handler registered with binfmt_misc (`dir` is for tests). An unmounted binfmt_misc reads as empty. */
export async function readBinfmt(dir = BINFMT_DIR): Promise<BinfmtState> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  if (!names.includes("status")) return { mounted: false, enabled: false, entries: [] };
  const status = await fsp.readFile(path.join(dir, "status"), "utf8").catch(() => "");
  const entries: BinfmtEntry[] = [];
  for (const name of names.sort()) {
    if (name === "status" || name === "register") continue;
    const text = await fsp.readFile(path.join(dir, name), "utf8").catch(() => undefined);
    const e = text === undefined ? undefined : parseBinfmtEntry(name, text.slice(0, 8192));
    if (e) entries.push(e);
  }
  return { mounted: true, enabled: status.trim() === "enabled", entries };
}

// ELF identity per architecture: class (1 = 32-bit, 2 = 64-bit), data (1 = little, 2 = big endian), e_machine.
const ELF: Record<string, [number, number, number]> = {
  amd64: [2, 1, 0x3e], "386": [1, 1, 0x03], arm64: [2, 1, 0xb7], arm: [1, 1, 0x28],
  ppc64le: [2, 1, 0x15], ppc64: [2, 2, 0x15], s390x: [2, 2, 0x16], riscv64: [2, 1, 0xf3],
  mips64le: [2, 1, 0x08], mips64: [2, 2, 0x08], mipsle: [1, 1, 0x08], mips: [1, 2, 0x08], loong64: [2, 1, 0x102],
};

/** The first 64 bytes of a static executable of `p` (what binfmt_misc matches magic against), or undefined. */
export function elfHeaderFor(p: Platform): Uint8Array | undefined {
  const id = ELF[normalizePlatform(p).architecture];
  if (!id) return undefined;
  const [cls, data, machine] = id;
  const h = new Uint8Array(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, cls, data, 1]);
  const u16 = (at: number, v: number) => (data === 1 ? h.set([v & 0xff, v >> 8], at) : h.set([v >> 8, v & 0xff], at));
  u16(16, 2); // ET_EXEC
  u16(18, machine);
  h[data === 1 ? 20 : 23] = 1; // e_version
  return h;
}

/** The enabled entry whose magic matches an executable of `p` (the one the kernel would pick), if any. */
export function findEmulator(p: Platform, entries: BinfmtEntry[]): BinfmtEntry | undefined {
  const header = elfHeaderFor(p);
  if (!header) return undefined;
  return entries.find((e) => {
    if (e.offset + e.magic.length > header.length) return false;
    for (let i = 0; i < e.magic.length; i++) if ((header[e.offset + i]! & e.mask[i]!) !== (e.magic[i]! & e.mask[i]!)) return false;
    return true;
  });
}

/** Architectures a CPU of the key's architecture runs natively (when no emulator claims them). */
const COMPAT: Record<string, string[]> = { amd64: ["386"], arm64: ["arm"] };

/** Options of {@link checkCanRun}. */
export interface CheckCanRunOptions {
  /** Stage name, for the error. */
  stage?: string;
  /** binfmt_misc directory. @default "/proc/sys/fs/binfmt_misc" */
  dir?: string;
  /** The machine's platform. @default hostPlatform() */
  host?: Platform;
}

function missing(p: Platform, host: Platform, stage: string | undefined, state: string, hint: string): KbError {
  const where = stage === undefined ? "" : ` in stage "${stage}"`;
  return new KbError("EMULATOR_MISSING", `Cannot RUN${where} for platform "${formatPlatform(p)}": ${state} on this ${formatPlatform(host)} machine`, { hint });
}

/**
 * Checks that this machine can execute binaries of `platform`: undefined when it runs them natively, the
 * binfmt_misc emulator when one is registered (with the F flag, so it works inside the build's root).
 * Throws KbError "EMULATOR_MISSING" naming the platform, the stage and how to register an emulator.
 * @example const emu = await checkCanRun({ os: "linux", architecture: "arm64" }, { stage: "build" }) // { name: "qemu-aarch64", ... }
 */
export async function checkCanRun(platform: Platform, opts: CheckCanRunOptions = {}): Promise<Emulator | undefined> {
  const want = normalizePlatform(platform);
  const host = normalizePlatform(opts.host ?? hostPlatform());
  if (want.os !== "linux") throw missing(want, host, opts.stage, `kb runs only linux binaries`, "build a linux image, or leave RUN out of stages for other systems");
  if (want.architecture === host.architecture) return undefined;
  const dir = opts.dir ?? BINFMT_DIR;
  const state = await readBinfmt(dir);
  const entry = state.enabled ? findEmulator(want, state.entries.filter((e) => e.enabled)) : undefined;
  if (entry && !entry.flags.includes("F")) {
    throw missing(want, host, opts.stage, `the emulator "${entry.name}" (${entry.interpreter}) is registered without the F flag, so it is not visible inside the build's root`,
      `re-register it with the F (fix binary) flag: with Debian's qemu-user-static, \`update-binfmts --disable ${entry.name} && update-binfmts --enable ${entry.name}\`; or \`docker run --privileged --rm tonistiigi/binfmt --install ${want.architecture}\``);
  }
  if (entry) return { name: entry.name, interpreter: entry.interpreter, flags: entry.flags };
  if (COMPAT[host.architecture]?.includes(want.architecture)) return undefined;
  const why = !state.mounted ? `binfmt_misc is not mounted at "${dir}", so no emulator is registered`
    : !state.enabled ? `binfmt_misc is disabled (status is not "enabled")`
    : `no emulator for ${want.architecture} is registered with binfmt_misc`;
  const mount = state.mounted ? "" : `mount it (\`mount -t binfmt_misc binfmt_misc ${dir}\`), then `;
  throw missing(want, host, opts.stage, why,
    `${mount}register one: \`apt-get install qemu-user-static binfmt-support\` (Debian/Ubuntu), or \`docker run --privileged --rm tonistiigi/binfmt --install ${want.architecture}\`; kb never falls back to the host's platform`);
}
