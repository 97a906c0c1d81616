// dynamicIndex and dynamicSlice/dynamicUpdateSlice whose index or starts are held in webgpu
// tensors (read inside the shader, never read back), against the CPU given the same values:
// clamping, values, first and second derivatives (reverse and forward) and vmap over the
// starts (one window per row). An index that the CPU reports as an IndexError gives NaN on the
// GPU when it is on the device, and the CPU's IndexError when it is a number.
import { describe, expect, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";
import { expectTagged } from "../expect-tagged.ts";

const f32 = (shape: number[], seed: number): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => 2 * v - 1), { shape });
};
const ints = (values: number[], shape = [values.length]): Tensor => tensor(Float32Array.from(values), { shape });
const TOL = { rtol: 2e-4, atol: 2e-5 };
const TOL2 = { rtol: 1e-3, atol: 1e-4 };

/** Σ y² · sin(y): a loss whose gradient and second derivative depend on where each element went. */
function* lossOf(y: Value) {
  return yield* sum(yield* Y.mul(yield* Y.square(y), yield* Y.sin(y)));
}

/** On the GPU: `program` of device tensors, read back. */
const onGpu = async (program: (...a: Value[]) => Generator<Y.Effect<unknown>, Value, unknown>, ...inputs: Tensor[]): Promise<unknown> => {
  await setBackend("webgpu");
  try {
    return await (run(program, ...inputs.map(toDevice)) as Tensor).toArrayAsync();
  } finally {
    await setBackend("cpu");
  }
};

describe("webgpu: dynamicSlice and dynamicUpdateSlice with starts in device tensors", () => {
  const x = f32([4, 5], 1);
  const u = f32([2, 3], 2);
  for (const starts of [[1, 2], [0, 0], [3, 9], [-2, 1]]) {
    it(`dynamicSlice at a starts tensor ${JSON.stringify(starts)} (clamped as on the CPU): values, gradients, jvp`, async () => {
      const f = function* (x: Value, s: Value) { return yield* Y.dynamicSlice(x, s, [2, 3]); };
      const loss = function* (x: Value, s: Value) { return yield* lossOf(yield* f(x, s)); };
      const s = ints(starts);
      await expectSameOnGpu(f, [x, s], TOL);
      await expectSameOnGpu(grad(loss), [x, s], TOL);
      await expectSameOnGpu(grad(function* (x: Value, s: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x, s))); }), [x, s], TOL2);
      await expectSameOnGpu(function* (x: Value, t: Value, s: Value) { return yield* jvp((x: Value) => f(x, s), [x], [t]); }, [x, f32([4, 5], 3), s], TOL);
    });
    it(`dynamicUpdateSlice at a starts tensor ${JSON.stringify(starts)}: values and both gradients`, async () => {
      const f = function* (x: Value, u: Value, s: Value) { return yield* Y.dynamicUpdateSlice(x, u, s); };
      const loss = function* (x: Value, u: Value, s: Value) { return yield* lossOf(yield* f(x, u, s)); };
      const s = ints(starts);
      await expectSameOnGpu(f, [x, u, s], TOL);
      await expectSameOnGpu(grad(loss), [x, u, s], TOL);
      await expectSameOnGpu(grad(function* (u: Value, x: Value, s: Value) { return yield* loss(x, u, s); }), [u, x, s], TOL);
      await expectSameOnGpu(grad(function* (u: Value, x: Value, s: Value) { return yield* sum(yield* Y.square(yield* grad(function* (u: Value) { return yield* loss(x, u, s); })(u))); }), [u, x, s], TOL2);
      await expectSameOnGpu(function* (x: Value, u: Value, tx: Value, tu: Value, s: Value) { return yield* jvp((x: Value, u: Value) => f(x, u, s), [x, u], [tx, tu]); }, [x, u, f32([4, 5], 4), f32([2, 3], 5), s], TOL);
    });
  }
  it("starts given as a list of 0-d device tensors and numbers", async () => {
    await expectSameOnGpu(function* (x: Value, s: Value) { return yield* Y.dynamicSlice(x, [s, 2], [3, 2]); }, [x, ints([1], [])], TOL);
    await expectSameOnGpu(function* (x: Value, u: Value, s: Value) { return yield* Y.dynamicUpdateSlice(x, u, [3, s]); }, [x, u, ints([1], [])], TOL);
  });
  it("vmap over the starts (one window per row) is the loop of single calls, with its gradient", async () => {
    const xs = f32([3, 4, 5], 6);
    const starts = ints([0, 1, 2, 3, 3, 0], [3, 2]);
    const slice = function* (x: Value, s: Value) { return yield* Y.dynamicSlice(x, s, [2, 2]); };
    await expectSameOnGpu(vmap(slice), [xs, starts], TOL);
    await expectSameOnGpu(vmap(slice, [null, 0]), [f32([4, 5], 7), starts], TOL);
    await expectSameOnGpu(grad(function* (x: Value, s: Value) { return yield* lossOf(yield* vmap(slice)(x, s)); }), [xs, starts], TOL);
    const update = function* (x: Value, u: Value, s: Value) { return yield* Y.dynamicUpdateSlice(x, u, s); };
    await expectSameOnGpu(vmap(update), [xs, f32([3, 2, 2], 8), starts], TOL);
    await expectSameOnGpu(grad(function* (u: Value, x: Value, s: Value) { return yield* lossOf(yield* vmap(update)(x, u, s)); }), [f32([3, 2, 2], 8), xs, starts], TOL);
  });
  it("a start that is not an integer: the CPU's IndexError for a number, NaN for one on the device", async () => {
    const got = await onGpu(function* (x: Value, s: Value) { return yield* Y.dynamicSlice(x, s, [2, 2]); }, x, ints([1.5, 0]));
    expect((got as number[][]).flat().every(Number.isNaN)).toBe(true);
    const upd = await onGpu(function* (x: Value, u: Value, s: Value) { return yield* Y.dynamicUpdateSlice(x, u, s); }, x, u, ints([0, NaN]));
    expect((upd as number[][]).flat().every(Number.isNaN)).toBe(true);
    await setBackend("webgpu");
    try {
      const xd = toDevice(x);
      expectTagged(() => run(function* () { return yield* Y.dynamicSlice(xd, [1.5, 0], [2, 2]); }), "IndexError", /start 1.5 of axis 0 is not an integer/);
    } finally {
      await setBackend("cpu");
    }
  });
});

describe("webgpu: dynamicIndex", () => {
  const x = f32([4, 3], 9);
  const index = (i: number): Tensor => ints([i], []);
  for (const i of [0, 2, 3]) {
    it(`x[${i}] with the index a device tensor and a number: values, gradients, jvp`, async () => {
      const f = function* (x: Value, i: Value) { return yield* Y.dynamicIndex(x, i); };
      const loss = function* (x: Value, i: Value) { return yield* lossOf(yield* f(x, i)); };
      for (const k of [index(i), i]) {
        await expectSameOnGpu(f, [x, k], TOL);
        await expectSameOnGpu(grad(loss), [x, k], TOL);
        await expectSameOnGpu(grad(function* (x: Value, k: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x, k))); }), [x, k], TOL2);
        await expectSameOnGpu(function* (x: Value, t: Value, k: Value) { return yield* jvp((x: Value) => f(x, k), [x], [t]); }, [x, f32([4, 3], 10), k], TOL);
      }
    });
  }
  it("a vector's element is a 0-d tensor, and a size-1 index tensor [1] works", async () => {
    await expectSameOnGpu(function* (v: Value, i: Value) { return yield* Y.dynamicIndex(v, i); }, [f32([5], 11), ints([4])], TOL);
  });
  it("vmap: one index for every example, and one index per example", async () => {
    const xs = f32([3, 4, 2], 12);
    const f = function* (x: Value, i: Value) { return yield* Y.dynamicIndex(x, i); };
    await expectSameOnGpu(vmap(f, [0, null]), [xs, index(1)], TOL);
    await expectSameOnGpu(vmap(f), [xs, ints([3, 0, 2])], TOL);
    await expectSameOnGpu(grad(function* (x: Value, i: Value) { return yield* lossOf(yield* vmap(f)(x, i)); }), [xs, ints([3, 0, 2])], TOL);
  });
  it("an index out of range: the CPU's IndexError for a number, NaN for one on the device", async () => {
    for (const bad of [4, -1, 1.5, NaN, Infinity]) {
      const got = await onGpu(function* (x: Value, i: Value) { return yield* Y.dynamicIndex(x, i); }, x, index(bad));
      expect((got as number[]).every(Number.isNaN), `index ${bad}`).toBe(true);
      const adj = await onGpu(grad(function* (x: Value, i: Value) { return yield* sum(yield* Y.dynamicIndex(x, i)); }), x, index(bad));
      expect((adj as number[][]).flat().every(Number.isNaN), `gradient at index ${bad}`).toBe(true);
    }
    await setBackend("webgpu");
    try {
      const xd = toDevice(x);
      expectTagged(() => run(function* () { return yield* Y.dynamicIndex(xd, 4); }), "IndexError", /index 4 is out of range for axis 0 of shape \[4, 3\]/);
    } finally {
      await setBackend("cpu");
    }
  });
});
