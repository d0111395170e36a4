// stageConcurrency: how many stages build at once, from the option or the core count.

import { expect, test } from "bun:test";
import { isKbError } from "../../errors.ts";
import { stageConcurrency } from "./engine.ts";

test("`stageConcurrency()` is one per core, at least 2, without the option", () => {
  expect(stageConcurrency({}, 1)).toBe(2);
  expect(stageConcurrency({}, 2)).toBe(2);
  expect(stageConcurrency({}, 8)).toBe(8);
});

test("`stageConcurrency()` takes the option as given, and refuses what is not a whole number of 1 or more", () => {
  expect(stageConcurrency({ stageConcurrency: 1 }, 8)).toBe(1);
  expect(stageConcurrency({ stageConcurrency: 5 }, 2)).toBe(5);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    let err: unknown;
    try {
      stageConcurrency({ stageConcurrency: bad });
    } catch (e) {
      err = e;
    }
    expect(isKbError(err, "USAGE")).toBe(true);
  }
});
