// take with its indices in a webgpu tensor (a gather on the device; its adjoint sorts the
// indices on the device and sums each row's slices in index order, no atomics) against the CPU
// given the same indices: axes, index shapes, negative and repeated indices, first and second
// derivatives (reverse and forward), vmap; an index that selects nothing gives a NaN row and
// no gradient, as the run-time index path defines.
import { describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectClose, expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => 2 * v - 1), { shape });
};
const ints = (values: number[], shape = [values.length]): Tensor => tensor(Float32Array.from(values), { shape });
const TOL = { rtol: 2e-4, atol: 2e-5 };

function* lossOf(y: Value) {
  return yield* sum(yield* Y.mul(yield* Y.square(y), yield* Y.sin(y)));
}

describe("webgpu: take by a device index tensor", () => {
  const x = f32([5, 4, 3], 1);
  const cases: [string, Tensor, number][] = [
    ["repeated and negative indices along axis 0", ints([4, 0, -1, 2, 0, 4]), 0],
    ["an index matrix along axis 1", ints([3, 0, 1, 3, -2, 0], [2, 3]), 1],
    ["a 0-d index along the last axis", ints([2], []), 2],
  ];
  for (const [what, i, axis] of cases)
    it(`${what}: values, gradients (reverse, forward, second order)`, async () => {
      const f = function* (x: Value, i: Value) { return yield* Y.take(x, i, axis); };
      const loss = function* (x: Value, i: Value) { return yield* lossOf(yield* f(x, i)); };
      await expectSameOnGpu(f, [x, i], TOL);
      await expectSameOnGpu(grad(loss), [x, i], TOL);
      await expectSameOnGpu(function* (x: Value, t: Value, i: Value) { return yield* jvp((x: Value) => f(x, i), [x], [t]); }, [x, f32([5, 4, 3], 2), i], TOL);
      await expectSameOnGpu(grad(function* (x: Value, i: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x, i))); }), [x, i], { rtol: 1e-3, atol: 1e-4 });
    });

  it("many repeats of few rows (the adjoint's sorted runs) and an embedding-style lookup", async () => {
    const table = f32([7, 16], 3);
    const tokens = ints(Array.from({ length: 300 }, (_, k) => (k * 5) % 7));
    await expectSameOnGpu(grad(function* (w: Value, t: Value) { return yield* lossOf(yield* Y.take(w, t)); }), [table, tokens], TOL);
  });

  it("vmap over x with shared indices, and over the indices", async () => {
    const xs = f32([3, 5, 2], 4);
    await expectSameOnGpu(vmap(function* (r: Value, i: Value) { return yield* Y.take(r, i); }, [0, null]), [xs, ints([4, 1, 1])], TOL);
    await expectSameOnGpu(vmap(function* (r: Value, i: Value) { return yield* Y.take(r, i); }), [xs, ints([0, 4, 2, 2, -1, 3], [3, 2])], TOL);
  });

  it("an index out of range or not an integer: a NaN row, and its cotangent is dropped", async () => {
    const w = f32([4, 2], 5);
    const c = f32([6, 2], 6);
    await setBackend("webgpu");
    let got: unknown;
    let g: unknown;
    try {
      const [wd, cd, bad] = [toDevice(w), toDevice(c), toDevice(ints([1, 7, -1, 0.5, NaN, -Infinity]))];
      got = await (run(function* () { return yield* Y.take(wd, bad); }) as Tensor).toArrayAsync();
      g = await (run(grad(function* (w: Value) { return yield* sum(yield* Y.mul(yield* Y.take(w, bad), cd)); }), wd) as Tensor).toArrayAsync();
    } finally {
      await setBackend("cpu");
    }
    const rows = got as number[][];
    expect([rows[1], rows[3], rows[4], rows[5]].flat().every(Number.isNaN)).toBe(true);
    expectClose([rows[0], rows[2]], [(w.toArray() as number[][])[1], (w.toArray() as number[][])[3]], 0, 0);
    const cr = c.toArray() as number[][];
    expectClose(g, [[0, 0], cr[0], [0, 0], cr[2]], 0, 0);
  });

  it("oneHot, segmentSum and softmaxCrossEntropy with their indices in a GPU tensor (a one-hot comparison on the device)", async () => {
    const labels = ints([2, 0, 3, 3, 1]);
    await expectSameOnGpu(function* (i: Value) { return yield* Y.oneHot(i, 4); }, [labels]);
    await expectSameOnGpu(function* (d: Value, i: Value) { return yield* Y.segmentSum(d, i, 4); }, [f32([5, 3], 7), labels], TOL);
    const loss = function* (z: Value, i: Value) { return yield* Y.softmaxCrossEntropy(z, i); };
    await expectSameOnGpu(loss, [f32([5, 4], 8), labels], TOL);
    await expectSameOnGpu(grad(loss), [f32([5, 4], 8), labels], TOL);
  });
});
