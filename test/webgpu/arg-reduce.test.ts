// argmax/argmin on webgpu against the CPU: the first extremum of each line (ties), NaN first, any
// axis, vmap, and as a constant inside a differentiated program; the positions are float32 there.
import { describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, rand, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => Math.round(8 * v) / 4 - 1), { shape }); // few distinct values: ties
};

describe("webgpu: argmax and argmin", () => {
  const x = f32([3, 4, 5], 1);
  for (const axis of [0, 1, 2, -1, undefined] as (number | undefined)[]) {
    it(`argmax and argmin along ${String(axis)}, with ties`, async () => {
      await expectSameOnGpu(function* (x: Value) { return [yield* Y.argmax(x, axis), yield* Y.argmin(x, axis)]; }, [x]);
    });
  }
  it("a NaN is the position picked, as on the CPU (NumPy's rule)", async () => {
    const v = tensor(Float32Array.from([1, NaN, 3, 2, 5, 4, NaN, 0, 7, 7, 1, NaN]), { shape: [3, 4] });
    await expectSameOnGpu(function* (x: Value) { return [yield* Y.argmax(x, 1), yield* Y.argmin(x, 1), yield* Y.argmax(x, 0)]; }, [v]);
  });
  it("vmap of argmax is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (r: Value) { return yield* Y.argmax(r); }), [f32([6, 7], 2)]);
  });
  it("accuracy (argmax of logits equal to the labels) and a gradient with argmax as a constant", async () => {
    const logits = f32([8, 5], 3);
    const labels = tensor(Float32Array.from([0, 1, 2, 3, 4, 0, 1, 2]), { shape: [8] });
    await expectSameOnGpu(function* (z: Value, y: Value) { return yield* Y.mean(yield* Y.equal(yield* Y.argmax(z, 1), y)); }, [logits, labels]);
    const loss = function* (x: Value) { return yield* sum(yield* Y.mul(yield* Y.square(x), yield* Y.expandDims(yield* Y.argmax(x, 1), 1))); };
    await expectSameOnGpu(grad(loss), [logits]);
  });
  it("the positions on webgpu are float32 tensors", async () => {
    const z = f32([2, 3], 4);
    await setBackend("webgpu");
    try {
      const a = run(function* (x: Value) { return yield* Y.argmax(x, 1); }, toDevice(z)) as Tensor;
      expect([a.backend, a.dtype]).toEqual(["webgpu", "float32"]);
    } finally {
      await setBackend("cpu");
    }
  });
});
