// flip, cumsum/cumprod and dynamicSlice/dynamicUpdateSlice on webgpu against the CPU: values,
// gradients (reverse, forward, second order) and vmap (starts held in GPU tensors: dynamic-index.test.ts).
import { describe, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, sum, tensor, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => lo + (hi - lo) * v), { shape });
};
const TOL = { rtol: 2e-4, atol: 2e-5 };

/** Values, grad of the sum of squares, jvp, and the grad of its gradient's squared norm, each on webgpu against the CPU. */
const checkAll = async (f: (x: Value) => Y.Effect<Value>, x: Tensor): Promise<void> => {
  const value = function* (x: Value) { return yield* f(x); };
  const loss = function* (x: Value) { return yield* sum(yield* Y.square(yield* f(x))); };
  await expectSameOnGpu(value, [x], TOL);
  await expectSameOnGpu(grad(loss), [x], TOL);
  await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(value, [x], [t]); }, [x, f32(x.shape as number[], 99)], TOL);
  // second order through a polynomial of the gradient: WGSL's sin is accurate to 2^-11 only
  await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x))); }), [x], { rtol: 1e-3, atol: 1e-4 });
};

describe("webgpu: flip", () => {
  const x = f32([3, 4, 5], 1);
  for (const axis of [0, 2, -1, [1, 2], [0, 1, 2], undefined] as (number | number[] | undefined)[])
    it(`flip along ${JSON.stringify(axis)}`, () => checkAll((x) => Y.flip(x, axis), x));
  it("flip of an empty tensor and a vector", async () => {
    await expectSameOnGpu(function* (x: Value) { return yield* Y.flip(x, 0); }, [f32([6], 2)]);
    await expectSameOnGpu(function* (x: Value) { return yield* Y.flip(x, 1); }, [tensor(new Float32Array(0), { shape: [2, 0] })]);
  });
});

describe("webgpu: cumsum and cumprod", () => {
  const x = f32([3, 4, 5], 3);
  const pos = f32([3, 4, 5], 4, 0.5, 1.5);
  for (const axis of [0, 1, 2, -1]) {
    it(`cumsum along ${axis}`, () => checkAll((x) => Y.cumsum(x, axis), x));
    it(`cumprod along ${axis}`, () => checkAll((x) => Y.cumprod(x, axis), pos));
  }
  it("cumprod with zeros (its exact-at-zero derivative rules run on the GPU too)", () =>
    checkAll((x) => Y.cumprod(x, 1), tensor(Float32Array.from([1, 0, 2, 3, 0.5, 2, 0, 0], (v) => v), { shape: [2, 4] })));
  it("vmap of cumsum is the loop of single calls", async () => {
    const rows = f32([4, 6], 5);
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.cumsum(r); }), [rows], TOL);
  });
});

describe("webgpu: dynamicSlice and dynamicUpdateSlice with number starts", () => {
  const x = f32([4, 5], 6);
  for (const starts of [[1, 2], [0, 0], [3, 9], [-2, 1]])
    it(`dynamicSlice at ${JSON.stringify(starts)} (clamped as on the CPU)`, () => checkAll((x) => Y.dynamicSlice(x, starts, [2, 3]), x));
  const u = f32([2, 3], 7);
  for (const starts of [[1, 2], [5, -1]]) {
    it(`dynamicUpdateSlice at ${JSON.stringify(starts)}: values and both gradients`, async () => {
      const f = function* (x: Value, u: Value) { return yield* Y.dynamicUpdateSlice(x, u, starts); };
      const loss = function* (x: Value, u: Value) { return yield* sum(yield* Y.mul(yield* Y.square(yield* f(x, u)), yield* Y.sin(yield* f(x, u)))); };
      await expectSameOnGpu(f, [x, u], TOL);
      await expectSameOnGpu(grad(loss), [x, u], TOL);
      await expectSameOnGpu(grad(function* (u: Value, x: Value) { return yield* loss(x, u); }), [u, x], TOL);
      await expectSameOnGpu(function* (x: Value, u: Value, tx: Value, tu: Value) { return yield* jvp(f, [x, u], [tx, tu]); }, [x, u, f32([4, 5], 8), f32([2, 3], 9)], TOL);
    });
  }
  it("vmap over x with shared number starts", async () => {
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.dynamicSlice(r, [1, 1], [2, 2]); }), [f32([3, 4, 5], 10)], TOL);
  });
});
