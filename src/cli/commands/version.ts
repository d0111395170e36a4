// `kb version`: version, commit and platform.

import { versionInfo } from "../../version.ts";
import type { CliIo } from "../io.ts";

export async function runVersion(_argv: string[], io: CliIo): Promise<number> {
  const v = versionInfo();
  io.out(`kb ${v.version} (commit ${v.commit}, ${v.variant}, ${v.platform})\n`);
  return 0;
}
