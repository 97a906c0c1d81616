// sort, argsort and topK on webgpu against the CPU: the same stable order (ties by position,
// NaN last when ascending and first in topK, −0 equal to +0, ±∞), along every axis, any k;
// first and second derivatives (reverse and forward) through the picks; vmap; the positions
// used as device indices (take by a GPU index tensor) inside a gradient; random shapes; and
// lines long enough for the merge sort (MERGE_FROM elements and more).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";
import { MERGE_FROM } from "../../src/backend/webgpu/sort.ts";

const f32 = (shape: number[], seed: number, ties = false): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => (ties ? Math.round(8 * v) / 4 - 1 : 2 * v - 1)), { shape });
};
const TOL = { rtol: 2e-4, atol: 2e-5 };

/** Values, the grad of Σ f(x)² · sin(f(x)), jvp, and the grad of the gradient's squared norm, on webgpu against the CPU. */
const checkGrads = async (f: (x: Value) => Y.Effect<Value> | Generator<Y.Effect<unknown>, Value, unknown>, x: Tensor): Promise<void> => {
  const value = function* (x: Value) { return yield* f(x); };
  const loss = function* (x: Value) { const y = yield* f(x); return yield* sum(yield* Y.mul(yield* Y.square(y), yield* Y.sin(y))); };
  await expectSameOnGpu(value, [x], TOL);
  await expectSameOnGpu(grad(loss), [x], TOL);
  await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(value, [x], [t]); }, [x, f32(x.shape as number[], 99)], TOL);
  await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x))); }), [x], { rtol: 1e-3, atol: 1e-4 });
};

/** sort, argsort and topK's two results together. */
const all = (axis: number, k: number) =>
  function* (x: Value) {
    const [values, indices] = yield* Y.topK(x, k);
    return [yield* Y.sort(x, axis), yield* Y.argsort(x, axis), values, indices];
  };

describe("webgpu: sort, argsort, topK", () => {
  const x = f32([3, 4, 5], 1, true); // few distinct values: many ties
  for (const axis of [0, 1, 2, -1])
    it(`sort and argsort along ${axis} with ties (stable, as on the CPU)`, async () => {
      await expectSameOnGpu(function* (x: Value) { return [yield* Y.sort(x, axis), yield* Y.argsort(x, axis)]; }, [x]);
    });

  it("NaN, ±∞ and ±0 are ordered as on the CPU (NaN last when sorting, first in topK; −0 and +0 tie)", async () => {
    const v = tensor(Float32Array.from([NaN, 1, -0, Infinity, 0, -Infinity, NaN, -1, 0, 1, -0, 2]), { shape: [2, 6] });
    const { got } = await expectSameOnGpu(all(1, 4), [v]);
    expect((got as number[][][])[1]).toEqual([[5, 2, 4, 1, 3, 0], [1, 2, 4, 3, 5, 0]]);
    expect((got as number[][][])[3]).toEqual([[0, 3, 1, 2], [0, 5, 3, 2]]);
  });

  for (const k of [0, 1, 3, 5])
    it(`topK with k = ${k}: values and positions`, async () => {
      await expectSameOnGpu(function* (x: Value) { return yield* Y.topK(x, k); }, [x]);
    });

  for (const axis of [0, 2])
    it(`gradients of sort along ${axis}: reverse, forward, second order`, () => checkGrads((x) => Y.sort(x, axis), f32([3, 4, 5], 2)));
  it("gradients of sort with ties go to the element the stable order picks", () => checkGrads((x) => Y.sort(x, 1), f32([3, 6], 3, true)));
  it("gradients of topK's values: reverse, forward, second order", () =>
    checkGrads(function* (x: Value) { return (yield* Y.topK(x, 3))[0]; }, f32([4, 6], 4, true)));

  it("vmap of sort, argsort and topK is the loop of single calls", async () => {
    const rows = f32([5, 7], 5, true);
    await expectSameOnGpu(vmap(all(0, 3)), [rows]);
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.sort(r, 1); }), [f32([3, 2, 6], 6)]);
  });

  it("argsort's positions index x on the GPU (take by a device index tensor), inside a gradient", async () => {
    const v = f32([8], 7);
    const byPositions = function* (x: Value) { return yield* Y.take(x, yield* Y.argsort(x)); };
    await expectSameOnGpu(byPositions, [v]);
    const loss = function* (x: Value) {
      const s = yield* byPositions(x);
      return yield* sum(yield* Y.mul(s, yield* Y.cumsum(s)));
    };
    await expectSameOnGpu(grad(loss), [v], TOL);
    await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x))); }), [v], TOL);
  });

  it("the positions on webgpu are float32 tensors", async () => {
    const xs = f32([2, 3], 8);
    await setBackend("webgpu");
    try {
      const [a, [, i]] = run(function* (x: Value) { return [yield* Y.argsort(x), yield* Y.topK(x, 2)]; }, toDevice(xs)) as [Tensor, [Tensor, Tensor]];
      expect([a.backend, a.dtype, i.backend, i.dtype]).toEqual(["webgpu", "float32", "webgpu", "float32"]);
    } finally {
      await setBackend("cpu");
    }
  });

  it("random shapes, axes and values (ties, NaN, ±∞): the same as the CPU", async () => {
    const pool = [0, 1, -1, 0.5, NaN, Infinity, -Infinity, -0, 2];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            axis: fc.integer({ min: 0, max: shape.length - 1 }),
            k: fc.integer({ min: 0, max: shape[shape.length - 1]! }),
            picks: fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }),
          }),
        ),
        async ({ shape, axis, k, picks }) => {
          await expectSameOnGpu(all(axis, k), [tensor(Float32Array.from(picks, (p) => pool[p]!), { shape })]);
        },
      ),
      { numRuns: 25, seed: 21 },
    );
  });
});

describe("webgpu: sort, argsort, topK of long lines (merge-sorted)", () => {
  /** Few distinct values (ties), with NaN, ±∞ and ±0 sprinkled in. */
  const long = (shape: number[], seed: number): Tensor => {
    const u = rand(shape, { seed, dtype: "float32" });
    const special = [NaN, Infinity, -Infinity, 0, -0];
    return tensor(Float32Array.from(u.data, (v, i) => (i % 97 === 5 ? special[i % 5]! : Math.round(40 * v) / 8 - 2.5)), { shape });
  };
  for (const n of [MERGE_FROM, 2 * MERGE_FROM, 3001])
    it(`lines of ${n}: sort, argsort and topK as on the CPU`, async () => {
      await expectSameOnGpu(all(1, 7), [long([2, n], n)]);
    });
  it("along axis 0 (a stride between the elements of a line)", async () => {
    await expectSameOnGpu(function* (x: Value) { return [yield* Y.sort(x, 0), yield* Y.argsort(x, 0)]; }, [long([1500, 3], 1)]);
  });
  it("gradients through a long sort and topK: reverse, forward, second order", async () => {
    await checkGrads((x) => Y.sort(x, 1), f32([2, 1100], 2, true));
    await checkGrads(function* (x: Value) { return (yield* Y.topK(x, 9))[0]; }, f32([2, 1300], 3, true));
  });
  it("vmap of topK over long lines", async () => {
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.topK(r, 4); }), [long([3, 1200], 4)]);
  });
});
