// The driver never loops without progress and errors point at the user's line (issue #16,
// items 1 and 8).
import { describe, expect, it } from "vitest";
import { add, call, EffectError, grad, jit, matmul, mul, run, ShapeError, sin, tensor, vmap, type Value } from "../src/index.ts";

describe("async generator functions are refused at once", () => {
  async function* asyncProgram(x: Value) {
    return x;
  }
  const transforms: [string, (f: never) => never][] = [
    ["run", (f) => f],
    ["grad", grad as never],
    ["jit", jit as never],
    ["vmap", vmap as never],
  ];
  for (const [name, t] of transforms)
    it(`${name} of an async function* is an EffectError naming synchronous generators`, () => {
      expect(() => run(t(asyncProgram as never), tensor([1, 2]) as never)).toThrow(EffectError);
      expect(() => run(t(asyncProgram as never), tensor([1, 2]) as never)).toThrow(/async generator.*synchronous generators \(function\*\)/);
    });
  it("a call of an async function* too, and the next run works", () => {
    function* caller(x: Value) {
      return yield* call(asyncProgram as never, x);
    }
    expect(() => run(caller, 1)).toThrow(/async generator/);
    expect(run(grad(function* (x: Value) {
      return yield* sin(x);
    }), 0)).toBe(1);
  });
});

describe("a program that keeps yielding non-effects ends with the error", () => {
  it("after the error is thrown into it, a second non-effect ends it", () => {
    let attempts = 0;
    function* stubborn(): Generator<never, number, unknown> {
      for (;;) {
        try {
          attempts++;
          yield 42 as never;
        } catch {
          // swallows the error and tries again
        }
      }
    }
    expect(() => run(stubborn)).toThrow(/yielded number 42, which is not an effect/);
    expect(attempts).toBe(2);
  });
  it("one that recovers with a real operation goes on", () => {
    function* recovers(x: Value) {
      try {
        yield 1 as never;
      } catch {
        // told; now uses an operation properly
      }
      return yield* mul(x, 3);
    }
    expect(run(recovers, 2)).toBe(6);
  });
});

describe("errors point at the user's line", () => {
  function* model(x: Value) {
    const w = tensor([[1, 2, 3]]);
    return yield* matmul(x, w); // the failing line
  }
  const firstFrame = (e: unknown): string => ((e as Error).stack ?? "").split("\n").find((l) => /^\s+at /.test(l)) ?? "";
  it("a ShapeError from matmul has the program's frame first", () => {
    let err: unknown;
    try {
      run(model, tensor([[1, 2]]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect(firstFrame(err)).toMatch(/model .*driver-hardening\.test\.ts(\?[^:]*)?:\d+:\d+/);
    // the library's frames are still there, below
    expect((err as Error).stack).toMatch(/driver/);
  });
  it("under grad, and from a sub-program called with call()", () => {
    function* outer(x: Value) {
      return yield* call(model, x);
    }
    for (const program of [grad(function* (x: Value) {
      return yield* model(x);
    }), outer]) {
      let err: unknown;
      try {
        run(program as never, tensor([[1, 2]]) as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ShapeError);
      expect(firstFrame(err)).toMatch(/model .*driver-hardening\.test\.ts/);
    }
  });
  it("from an elementwise operation, performed where the program makes it, eagerly and under grad", () => {
    function* broadcastFails(x: Value) {
      return yield* add(x, tensor([1, 2, 3])); // the failing line: [2] and [3] do not broadcast
    }
    for (const program of [broadcastFails, grad(broadcastFails)]) {
      let err: unknown;
      try {
        run(program as never, tensor([1, 2]) as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ShapeError);
      expect(firstFrame(err)).toMatch(/broadcastFails .*driver-hardening\.test\.ts/);
    }
    expect(run(broadcastFails, tensor([1, 2, 3]))).toBeInstanceOf(Object); // and the next run works
  });
});
