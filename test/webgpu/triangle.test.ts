// tril and triu on webgpu against the CPU: every diagonal k (below, on and above the main one,
// and past the matrix), stacks of matrices, a NaN outside the triangle (dropped, not NaN·0),
// first and second derivatives (reverse and forward) and vmap.
import { describe, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, sum, tensor, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => 2 * v - 1), { shape });
};
const TOL = { rtol: 2e-4, atol: 2e-5 };

describe("webgpu: tril and triu", () => {
  const x = f32([2, 3, 4], 1);
  for (const k of [-1, 0, 2, 5, -4])
    it(`tril and triu with k = ${k}: values, gradients, jvp`, async () => {
      const f = function* (x: Value) { return [yield* Y.tril(x, k), yield* Y.triu(x, k)]; };
      const loss = function* (x: Value) { return yield* sum(yield* Y.mul(yield* Y.sin(yield* Y.tril(x, k)), yield* Y.square(yield* Y.triu(x, k)))); };
      await expectSameOnGpu(f, [x], TOL);
      await expectSameOnGpu(grad(loss), [x], TOL);
      await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(f, [x], [t]); }, [x, f32([2, 3, 4], 2)], TOL);
      await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x))); }), [x], { rtol: 1e-3, atol: 1e-4 });
    });
  it("a NaN outside the triangle is dropped, as on the CPU", async () => {
    const v = tensor(Float32Array.from([1, NaN, 2, 3]), { shape: [2, 2] });
    await expectSameOnGpu(function* (x: Value) { return [yield* Y.tril(x), yield* Y.triu(x, 1)]; }, [v]);
  });
  it("vmap of tril is the loop of single calls", async () => {
    await expectSameOnGpu(vmap(function* (m: Value) { return yield* Y.tril(m, -1); }), [f32([3, 4, 4], 3)]);
  });
});
