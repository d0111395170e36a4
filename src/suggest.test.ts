// suggest: the closest candidate within distance 2 (case-insensitive), and the prefix fallback flags, commands
// and stage names use.

import { expect, test } from "bun:test";
import { levenshtein, suggest } from "./suggest.ts";

test("`levenshtein()` counts insertions, deletions and substitutions", () => {
  expect(levenshtein("", "")).toBe(0);
  expect(levenshtein("run", "runn")).toBe(1);
  expect(levenshtein("kitten", "sitting")).toBe(3);
});

test("`suggest()` picks the closest candidate below distance 3, ignoring case", () => {
  expect(suggest("RUNN", ["RUN", "ENV"])).toBe("RUN");
  expect(suggest("cpy", ["COPY", "ADD"])).toBe("COPY");
  expect(suggest("healthcheck", ["RUN", "ENV"])).toBeUndefined();
});

test("`suggest()` with `prefix` falls back to a candidate the word (3+ characters) starts, only when none is close", () => {
  expect(suggest("plat", ["platform", "pull"])).toBeUndefined();
  expect(suggest("plat", ["platform", "pull"], { prefix: true })).toBe("platform");
  expect(suggest("pl", ["platform"], { prefix: true })).toBeUndefined();
  expect(suggest("pul", ["platform", "pull"], { prefix: true })).toBe("pull");
});
