// Only validated numbers and internal identifiers reach jit's generated source. User values that
// could: scan's `length` (pasted as the loop bound). Each is checked eagerly and under jit alike,
// with a tagged error, and a hostile object never runs its code.
import { describe, expect, it } from "vitest";
import { add, jit, makeIR, run, scan, tensor, ValueError, type Value } from "../src/index.ts";

const counter = (length: unknown) =>
  function* (x: Value) {
    const [total] = yield* scan(
      function* (c: Value) {
        return [yield* add(c, 1), c] as [Value, Value];
      },
      x,
      null,
      { length: length as number },
    );
    return total;
  };

describe("scan's length", () => {
  const bad: [string, unknown][] = [
    ["a fraction", 2.5],
    ["a string", "3"],
    ["a negative number", -1],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["beyond 2^53", 2 ** 53],
  ];
  for (const [what, length] of bad)
    it(`${what} is a ValueError, eager and under jit`, () => {
      expect(() => run(counter(length), 0)).toThrow(ValueError);
      expect(() => run(counter(length), 0)).toThrow(/scan: length must be a non-negative integer/);
      expect(() => run(jit(counter(length)), 0)).toThrow(ValueError);
    });

  it("an object with a custom toString or valueOf never runs its code", () => {
    let ran = 0;
    const hostile = {
      toString() {
        ran++;
        return "0; globalThis.__pwned = 1; 0";
      },
      valueOf() {
        ran++;
        return 3;
      },
    };
    expect(() => run(counter(hostile), 0)).toThrow(ValueError);
    expect(() => run(jit(counter(hostile)), 0)).toThrow(ValueError);
    expect(() => makeIR(counter(hostile))(0)).toThrow(ValueError);
    expect(ran).toBe(0);
    expect((globalThis as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("a valid length runs that many steps, eager and jit, and is the loop bound in the source", () => {
    expect(run(counter(3), 0)).toBe(3);
    expect(run(jit(counter(3)), 0)).toBe(3);
    expect(run(counter(0), 5)).toBe(5);
    const j = jit(counter(7));
    expect(run(j, 0)).toBe(7);
    expect(j.info.sources().join("\n")).toMatch(/< 7;/);
  });

  it("options that are not an object are a ValueError", () => {
    const f = function* (x: Value) {
      return yield* scan(
        function* (c: Value, t: Value) {
          return [yield* add(c, t), c] as [Value, Value];
        },
        x,
        tensor([1, 2]),
        "fast" as never,
      );
    };
    expect(() => run(f, 0)).toThrow(ValueError);
  });
});
