// The effect protocol: an operation object is its own iterator. Consumed twice with yield*, it
// runs twice (plain JS would silently give undefined the second time); a bare `yield` of it works
// too; the driver is iterative, so deep programs cost no stack.
import { describe, expect, it } from "vitest";
import { add, grad, jvp, mul, run, sin, tensor, valueAndGrad, type Tensor, type Value } from "../src/index.ts";

describe("operation objects", () => {
  it("give their result again when consumed a second time, also under grad and jvp", () => {
    function* twice(x: Value) {
      const op = mul(x, x);
      const a = yield* op;
      const b = yield* op; // the same object: the operation runs again
      return yield* add(a, b); // 2x²
    }
    expect(run(twice, 3)).toBe(18);
    expect(run(grad(twice), 3)).toBe(12);
    expect(run(function* () { return yield* jvp(twice, [3], [1]); })).toEqual([18, 12]);
  });

  it("work with a bare yield as well as yield*", () => {
    function* f(x: Value) {
      const y = (yield sin(x)) as Value;
      return yield* mul(y, 2);
    }
    expect(run(f, 0.5)).toBeCloseTo(2 * Math.sin(0.5), 15);
    expect(run(grad(f), 0.5)).toBeCloseTo(2 * Math.cos(0.5), 15);
  });

  it("can be made outside the program and yielded inside it", () => {
    const op = mul(tensor([1, 2]), 3);
    const out = run(function* () { return yield* op; }) as Tensor;
    expect(Array.from(out.data)).toEqual([3, 6]);
  });

  it("nest through sub-programs without recursion in the driver (100,000 nested yield* calls deep in a loop)", () => {
    function* step(y: Value, x: Value): Generator<unknown, Value, unknown> {
      return yield* add(yield* sin(yield* mul(y, x)), x);
    }
    function* chain(x: Value) {
      let y: Value = x;
      for (let i = 0; i < 100_000; i++) y = yield* step(y, x);
      return y;
    }
    const [v, d] = run(valueAndGrad(chain as never), 0.5) as [number, number];
    let ry = 0.5;
    let rd = 1;
    for (let i = 0; i < 100_000; i++) {
      rd = Math.cos(ry * 0.5) * (rd * 0.5 + ry) + 1;
      ry = Math.sin(ry * 0.5) + 0.5;
    }
    expect(v).toBeCloseTo(ry, 12);
    expect(Math.abs(d - rd)).toBeLessThan(1e-9 * Math.abs(rd));
  });
});
