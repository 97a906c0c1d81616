// prod, tile and repeat on webgpu against the CPU: values over any axes (keepdims, empty
// reductions), with one zero and with two zeros in a slice (where the derivative rules must not
// divide), first and second derivatives in reverse and forward mode, and vmap.
import { describe, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, sum, tensor, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => lo + (hi - lo) * v), { shape });
};
const TOL = { rtol: 2e-4, atol: 2e-5 };

type Op = (x: Value) => Y.Effect<Value> | Generator<Y.Effect<unknown>, Value, unknown>;

/** Values, grad of Σ f(x)², jvp, grad of the gradient's squared norm and the jvp of the gradient (forward over reverse), on webgpu against the CPU. */
const checkAll = async (f: Op, x: Tensor): Promise<void> => {
  const value = function* (x: Value) { return yield* f(x); };
  const loss = function* (x: Value) { return yield* sum(yield* Y.square(yield* f(x))); };
  const t = f32(x.shape as number[], 99);
  await expectSameOnGpu(value, [x], TOL);
  await expectSameOnGpu(grad(loss), [x], TOL);
  await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(value, [x], [t]); }, [x, t], TOL);
  await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x))); }), [x], { rtol: 1e-3, atol: 1e-4 });
  await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(grad(loss), [x], [t]); }, [x, t], { rtol: 1e-3, atol: 1e-4 });
};

describe("webgpu: prod", () => {
  const x = f32([3, 4, 5], 1, 0.5, 1.5);
  for (const axis of [0, 1, -1, [0, 2], [0, 1, 2], undefined] as (number | number[] | undefined)[])
    it(`prod over ${JSON.stringify(axis)}`, () => checkAll((x) => Y.prod(x, axis), x));
  it("prod with keepdims, and over an empty axis (1)", async () => {
    await expectSameOnGpu(function* (x: Value) { return [yield* Y.prod(x, 1, true), yield* Y.prod(x, [0, 2], true)]; }, [x], TOL);
    await expectSameOnGpu(function* (x: Value) { return yield* Y.prod(x, 1); }, [tensor(new Float32Array(0), { shape: [3, 0] })]);
  });
  it("prod with one zero and with two zeros in a slice: exact values and derivatives (no division)", () =>
    checkAll((x) => Y.prod(x, 1), tensor(Float32Array.from([1.5, 0, 2, 0.5, 0, 3, 0, 0.75, 1.25, 2, 0.5, 1]), { shape: [3, 4] })));
  it("prod of every element with a zero", () => checkAll((x) => Y.prod(x), tensor(Float32Array.from([1.5, -2, 0, 0.5, 1.25, 0.8]), { shape: [2, 3] })));
  it("NaN and ±∞ propagate as on the CPU", async () => {
    await expectSameOnGpu(function* (x: Value) { return yield* Y.prod(x, 1); }, [tensor(Float32Array.from([NaN, 1, 2, Infinity, 2, -1, Infinity, 0]), { shape: [4, 2] })]);
  });
  it("vmap of prod is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.prod(r, 0); }), [f32([4, 5, 3], 2, 0.5, 1.5)], TOL);
    await expectSameOnGpu(vmap(grad(function* (r: Value) { return yield* Y.prod(r); })), [tensor(Float32Array.from([1, 0, 2, 3, 0.5, 2, 0, 0]), { shape: [2, 4] })], TOL);
  });
});

describe("webgpu: tile and repeat", () => {
  const x = f32([2, 3], 3);
  for (const reps of [2, [2, 1], [1, 3], [2, 2, 2], [0, 2]] as (number | number[])[])
    it(`tile by ${JSON.stringify(reps)}`, () => checkAll((x) => Y.tile(x, reps), x));
  it("repeat, equal and unequal counts", async () => {
    await checkAll((x) => Y.repeat(x, 2, 1), x);
    await checkAll((x) => Y.repeat(x, [1, 0, 3], 1), x);
  });
  it("vmap of tile is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.tile(r, [2, 2]); }), [f32([3, 2, 2], 4)]);
  });
});
