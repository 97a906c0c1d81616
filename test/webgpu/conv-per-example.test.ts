// Per-example filter gradients on webgpu (vmap of a convolution's filter gradient: one filter
// gradient per example in one kernel) against the CPU: stride, padding, dilation, groups,
// several images per example, their derivatives (reverse and forward) and vmap of vmap.
import { describe, it } from "vitest";
import * as Y from "../../src/index.ts";
import { grad, jvp, rand, sum, tensor, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => 2 * v - 1), { shape });
};

describe("webgpu: per-example filter gradients", () => {
  const cases: [string, number[], number[], Y.Conv2dOptions][] = [
    ["plain, one image per example", [3, 1, 2, 5, 6], [4, 2, 3, 3], {}],
    ["stride 2, padding 1, two images per example", [2, 2, 3, 6, 5], [2, 3, 3, 3], { stride: 2, padding: 1 }],
    ["dilation 2, groups 2", [3, 1, 4, 7, 7], [4, 2, 2, 2], { dilation: 2, groups: 2 }],
  ];
  for (const [what, xs, ws, options] of cases) {
    it(`${what}: the per-example gradients, their jvp and a second derivative`, async () => {
      const x = f32(xs, 1);
      const w = f32(ws, 2);
      const loss = function* (w: Value, x: Value) { return yield* sum(yield* Y.tanh(yield* Y.conv2d(x, w, options))); };
      const perExample = function* (w: Value, xs: Value) { return yield* vmap(grad(loss), [null, 0])(w, xs); };
      const tol = { rtol: 1e-4, atol: 1e-4 };
      await expectSameOnGpu(perExample, [w, x], tol);
      await expectSameOnGpu(function* (w: Value, xs: Value, t: Value) { return yield* jvp((w: Value) => perExample(w, xs), [w], [t]); }, [w, x, f32(ws, 3)], tol);
      await expectSameOnGpu(grad(function* (w: Value, xs: Value) { return yield* sum(yield* Y.square(yield* perExample(w, xs))); }), [w, x], { rtol: 1e-3, atol: 1e-3 });
      await expectSameOnGpu(grad(function* (xs: Value, w: Value) { return yield* sum(yield* Y.square(yield* perExample(w, xs))); }), [x, w], { rtol: 1e-3, atol: 1e-3 });
    });
  }
  it("vmap of vmap (a batch of batches of examples)", async () => {
    const loss = function* (w: Value, x: Value) { return yield* sum(yield* Y.square(yield* Y.conv2d(x, w, { padding: 1 }))); };
    const inner = vmap(grad(loss), [null, 0]);
    await expectSameOnGpu(vmap(inner, [null, 0]), [f32([2, 2, 3, 3], 4), f32([2, 3, 1, 2, 4, 4], 5)], { rtol: 1e-4, atol: 1e-4 });
  });
});
