import { describe, expect, test } from "bun:test";
import { parseFlags } from "../flags.ts";
import { buildFlags } from "./build-flags.ts";
import { toBuildOptions } from "./build-options.ts";
import { canRaiseHardLimits, ownHardLimits, parseShmSize, parseUlimit, parseUlimits } from "./run-limits.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max stack size            8388608              unlimited            bytes
Max processes             96362                96362                processes
Max open files            1024                 20000                files
`;

describe("--ulimit", () => {
  test("NAME=SOFT[:HARD] as docker takes it: HARD defaults to SOFT, -1 is unlimited", () => {
    expect(parseUlimit("nofile=1024:4096")).toEqual({ name: "nofile", soft: 1024, hard: 4096 });
    expect(parseUlimit("nproc=512")).toEqual({ name: "nproc", soft: 512, hard: 512 });
    expect(parseUlimit("core=-1")).toEqual({ name: "core", soft: -1, hard: -1 });
    expect(parseUlimit("stack=8192:-1")).toEqual({ name: "stack", soft: 8192, hard: -1 });
  });

  test("bad forms, names and orders are usage errors that say what to write", () => {
    expect(() => parseUlimit("nofile")).toThrow("expected NAME=SOFT[:HARD]");
    expect(() => parseUlimit("as=1")).toThrow('unknown limit "as"');
    expect(() => parseUlimit("nofile=1:2:3")).toThrow("expected NAME=SOFT[:HARD]");
    expect(() => parseUlimit("nofile=ten")).toThrow('"ten" is not a limit');
    expect(() => parseUlimit("nofile=-2")).toThrow('"-2" is not a limit');
    expect(() => parseUlimit("nofile=10:5")).toThrow("the soft limit is above the hard limit");
    expect(() => parseUlimit("nofile=-1:5")).toThrow("the soft limit is above the hard limit");
  });

  test("the hard limits come from /proc/self/limits; raising one without CAP_SYS_RESOURCE is refused up front", () => {
    expect(ownHardLimits(LIMITS)).toEqual({ cpu: -1, stack: -1, nproc: 96362, nofile: 20000 });
    const own = ownHardLimits(LIMITS);
    expect(parseUlimits(["nofile=100:20000", "stack=-1", "nofile=50"], false, own)).toEqual([
      { name: "nofile", soft: 50, hard: 50 }, { name: "stack", soft: -1, hard: -1 },
    ]);
    expect(() => parseUlimits(["nofile=100:20001"], false, own)).toThrow("above kb's own (20000)");
    expect(() => parseUlimits(["nproc=-1"], false, own)).toThrow("above kb's own (96362)");
    expect(parseUlimits(["nofile=100:40000"], true, own)).toEqual([{ name: "nofile", soft: 100, hard: 40000 }]);
  });

  test("CAP_SYS_RESOURCE is bit 24 of CapEff", () => {
    expect(canRaiseHardLimits("CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n")).toBe(true);
    expect(canRaiseHardLimits("CapEff:\t000001fffeffffff\n")).toBe(false);
    expect(canRaiseHardLimits("CapEff:\t0000000000000000\n")).toBe(false);
    expect(canRaiseHardLimits("")).toBe(false);
  });
});

describe("--shm-size", () => {
  test("binary units as docker's RAMInBytes; 0 keeps the default", () => {
    expect(parseShmSize("128m")).toBe(128 * 2 ** 20);
    expect(parseShmSize("1g")).toBe(2 ** 30);
    expect(parseShmSize("2GiB")).toBe(2 * 2 ** 30);
    expect(parseShmSize("65536")).toBe(65536);
    expect(parseShmSize("0")).toBeUndefined();
    expect(() => parseShmSize("12x")).toThrow("not a size");
    expect(() => parseShmSize("100")).toThrow("below one page");
  });
});

describe("docker build flags through toBuildOptions", () => {
  const opts = (argv: string[]) => toBuildOptions(parseFlags([...argv, "."], buildFlags), {});

  test("--ulimit and --shm-size reach the build options; the last --ulimit of a name wins", () => {
    const o = opts(["--ulimit", "nofile=10:20", "--ulimit", "core=0", "--ulimit", "nofile=5", "--shm-size", "1g"]);
    expect(o.ulimits).toEqual([{ name: "nofile", soft: 5, hard: 5 }, { name: "core", soft: 0, hard: 0 }]);
    expect(o.shmSize).toBe(2 ** 30);
    expect(opts([]).shmSize).toBeUndefined();
  });

  test("--cache-from and --cache-to are refused with the kb way to share a cache, not ignored", () => {
    for (const flag of ["--cache-from", "--cache-to"]) {
      expect(() => opts([flag, "type=registry,ref=reg.example/app:cache"])).toThrow("kb does not read or write BuildKit cache manifests");
      expect(() => opts([flag, "type=gha"])).toThrow(flag);
    }
  });
});
