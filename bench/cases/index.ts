// Every benchmark case, in run order.

import { largeFile, copyOnly, twoGbImage } from "./copy-cases.ts";
import { metadataHeavy, multiStage } from "./build-cases.ts";
import { copyFromSmall, debianUsr, multiStageDebian } from "./stage-cases.ts";
import { bigBase, deleteCase, runFiles, runTrue } from "./run-cases.ts";
import type { BenchCase } from "./types.ts";

export type { BenchCase, CaseEnv } from "./types.ts";

/** All cases; the `heavy` ones run only when asked for by name or with --all. */
export const allCases: BenchCase[] = [copyOnly, largeFile, multiStage, multiStageDebian, copyFromSmall, debianUsr, metadataHeavy, runFiles, deleteCase, bigBase, runTrue, twoGbImage];
