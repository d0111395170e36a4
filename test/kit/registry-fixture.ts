// The registry fixture of end-to-end files: a real registry started before the tests of a file (or of the describe
// block it is called in), busybox pushed as the base image, the registry stopped after them.

import { afterAll, beforeAll } from "bun:test";
import { pushBusyboxImage } from "./base-images.ts";
import { startRegistry, type RegistryFlavour, type StartRegistryOptions, type TestRegistry } from "./registry-server.ts";

export interface RegistryFixtureOptions extends StartRegistryOptions {
  /** @default "http" */
  flavour?: RegistryFlavour;
  /** Where busybox is pushed. @default { repo: "library/busybox", tag: "latest" } */
  busybox?: { repo?: string; tag?: string };
  /** Why the tests that use it are skipped here: then no registry is started. */
  skip?: string;
}

/** A running test registry (every TestRegistry field) and the busybox reference pushed to it. */
export interface RegistryFixture extends TestRegistry {
  /** The busybox base image, e.g. "127.0.0.1:PORT/library/busybox:latest". */
  readonly base: string;
}

class Fixture implements RegistryFixture {
  #registry?: TestRegistry;
  #base?: string;
  readonly #pushes: boolean;

  constructor(pushes: boolean) {
    this.#pushes = pushes;
  }

  async start(opts: RegistryFixtureOptions): Promise<void> {
    const { flavour = "http", busybox, skip, ...registryOptions } = opts;
    if (skip) return;
    this.#registry = await startRegistry(flavour, registryOptions);
    if (this.#pushes) this.#base = await pushBusyboxImage(this.#registry, busybox?.repo, busybox?.tag);
  }

  get registry(): TestRegistry {
    if (!this.#registry) throw new Error("the registry fixture is not running: read it inside a test or a hook registered after useRegistry…() (its beforeAll starts it)");
    return this.#registry;
  }

  get base(): string {
    if (this.#base === undefined) throw new Error(this.#pushes ? "busybox is not pushed yet (read `base` inside a test or a later hook)" : "this fixture pushes no busybox: use useRegistryWithBusybox()");
    return this.#base;
  }

  get flavour() { return this.registry.flavour; }
  get host() { return this.registry.host; }
  get url() { return this.registry.url; }
  get caPem() { return this.registry.caPem; }
  get caFile() { return this.registry.caFile; }
  get username() { return this.registry.username; }
  get password() { return this.registry.password; }
  get issuer() { return this.registry.issuer; }
  get dataDir() { return this.registry.dataDir; }
  get clientCert() { return this.registry.clientCert; }
  logs(): string { return this.registry.logs(); }
  stop(): Promise<void> { return this.#registry?.stop() ?? Promise.resolve(); }
}

function use(pushes: boolean, opts: RegistryFixtureOptions): RegistryFixture {
  const fixture = new Fixture(pushes);
  beforeAll(() => fixture.start(opts));
  afterAll(() => fixture.stop());
  return fixture;
}

/**
 * Starts a registry (plain HTTP unless `flavour` says otherwise) and pushes busybox to it before the tests of the
 * enclosing file or describe block; stops it after them. Call it before the hooks that use it.
 * @example const reg = useRegistryWithBusybox(); test("…", () => kb(["build", "-t", `${reg.host}/t/a:1`, …]) with `FROM ${reg.base}`)
 */
export function useRegistryWithBusybox(opts: RegistryFixtureOptions = {}): RegistryFixture {
  return use(true, opts);
}

/** The same fixture without the busybox push: a registry of `flavour` for the enclosing file or describe block. */
export function useRegistry(opts: Omit<RegistryFixtureOptions, "busybox"> = {}): Omit<RegistryFixture, "base"> {
  return use(false, opts);
}
