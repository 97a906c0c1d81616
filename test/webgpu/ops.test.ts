// Reductions, softmax, matrix products and layout operations on webgpu against the CPU: values
// over several axes and shapes, and their gradients (reverse, forward, second order).
import { describe, it } from "vitest";
import * as Y from "../../src/index.ts";
import { backendInfo, checkpoint, grad, jvp, rand, run, setBackend, sum, tensor, toDevice, vmap, type Tensor, type Value } from "../../src/index.ts";
import { expectSameOnGpu } from "./compare.ts";

const f32 = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => {
  const u = rand(shape, { seed, dtype: "float32" });
  return tensor(Float32Array.from(u.data, (v) => lo + (hi - lo) * v), { shape });
};
const TOL = { rtol: 2e-4, atol: 2e-5 };

/** Values, grad of the sum of squares (so the cotangent is not constant), jvp, and grad of grad. */
const checkAll = async (f: (x: Value) => Y.Effect<Value>, x: Tensor, tol = TOL): Promise<void> => {
  const value = function* (x: Value) { return yield* f(x); };
  const loss = function* (x: Value) { return yield* sum(yield* Y.square(yield* f(x))); };
  await expectSameOnGpu(value, [x], tol);
  await expectSameOnGpu(grad(loss), [x], tol);
  await expectSameOnGpu(function* (x: Value, t: Value) { return yield* jvp(value, [x], [t]); }, [x, f32(x.shape as number[], 99)], tol);
  await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.sin(yield* grad(loss)(x))); }), [x], { rtol: 2e-3, atol: 2e-4 });
};

describe("webgpu: reductions", () => {
  const x = f32([3, 4, 5], 1);
  for (const axis of [undefined, 0, 1, 2, [0, 2], [1, 2]] as (number | number[] | undefined)[]) {
    for (const keepdims of [false, true]) {
      const at = `axis ${JSON.stringify(axis)}${keepdims ? ", keepdims" : ""}`;
      it(`sum, ${at}`, () => checkAll((x) => Y.sum(x, axis, keepdims), x));
      it(`mean, ${at}`, () => checkAll((x) => Y.mean(x, axis, keepdims), x));
      it(`max and min, ${at}`, async () => {
        await checkAll((x) => Y.max(x, axis, keepdims), x);
        await checkAll((x) => Y.min(x, axis, keepdims), x);
      });
      it(`logsumexp, ${at}`, () => checkAll((x) => Y.logsumexp(x, axis, keepdims), x));
    }
  }
  it("max picks the first of tied maxima, as the CPU does (its gradient goes there)", async () => {
    const t = tensor([[1, 3, 3], [2, 2, 0]], { dtype: "float32" });
    await expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.max(x, 1)); }), [t]);
  });
});

describe("webgpu: softmax and logSoftmax", () => {
  for (const axis of [-1, 0, 1]) {
    it(`softmax over axis ${axis}`, () => checkAll((x) => Y.softmax(x, axis), f32([4, 6], 2, -3, 3)));
    it(`logSoftmax over axis ${axis}`, () => checkAll((x) => Y.logSoftmax(x, axis), f32([4, 6], 3, -3, 3)));
  }
  it("logSoftmax of large logits stays finite (shifted by the maximum)", () =>
    expectSameOnGpu(function* (x: Value) { return yield* Y.logSoftmax(x); }, [tensor([[1000, 1001, 999], [-1000, 0, 1000]], { dtype: "float32" })]));
});

describe("webgpu: matmul", () => {
  const cases: [number[], number[]][] = [
    [[3, 5], [5, 4]],
    [[70, 33], [33, 65]], // more than one 64×64 block and a partial K slice
    [[2, 3, 17], [17, 6]], // batch on one side
    [[2, 1, 4, 5], [3, 5, 2]], // batch axes broadcast
    [[5], [5, 3]], // vector · matrix
    [[4, 5], [5]], // matrix · vector
  ];
  for (const [as, bs] of cases) {
    it(`${JSON.stringify(as)} · ${JSON.stringify(bs)}: value and gradients of both operands`, async () => {
      const a = f32(as, 5);
      const b = f32(bs, 6);
      const product = function* (a: Value, b: Value) { return yield* Y.matmul(a, b); };
      await expectSameOnGpu(product, [a, b], { rtol: 1e-4, atol: 1e-5 });
      const loss = function* (a: Value, b: Value) { return yield* sum(yield* Y.square(yield* Y.matmul(a, b))); };
      await expectSameOnGpu(grad(loss, { argnums: [0, 1] }), [a, b], { rtol: 1e-4, atol: 1e-4 });
    });
  }
  it("a 256×256×256 product agrees with the CPU; its throughput is printed (SwiftShader: a CPU, not a GPU figure)", async () => {
    const a = f32([256, 256], 13);
    const b = f32([256, 256], 14);
    const product = function* (a: Value, b: Value) { return yield* Y.matmul(a, b); };
    await expectSameOnGpu(product, [a, b], { rtol: 1e-4, atol: 1e-4 });
    await setBackend("webgpu");
    try {
      const [ga, gb] = [toDevice(a), toDevice(b)];
      await (run(product, ga, gb) as Tensor).dataAsync(); // compiled and warm
      const reps = 10;
      const t0 = performance.now();
      let c: Tensor | null = null;
      for (let i = 0; i < reps; i++) c = run(product, ga, gb) as Tensor;
      await c!.dataAsync();
      const seconds = (performance.now() - t0) / 1000;
      console.log(`webgpu matmul 256³ on ${backendInfo().adapter}: ${((2 * 256 ** 3 * reps) / seconds / 1e9).toFixed(2)} GFLOP/s`);
    } finally {
      await setBackend("cpu");
    }
  });
  it("second order: grad of grad through a product", () =>
    expectSameOnGpu(
      grad(function* (a: Value, b: Value) {
        const g = yield* grad(function* (a: Value) { return yield* sum(yield* Y.tanh(yield* Y.matmul(a, b))); })(a);
        return yield* sum(yield* Y.square(g));
      }),
      [f32([3, 4], 7), f32([4, 2], 8)],
      { rtol: 1e-3, atol: 1e-4 },
    ));
});

describe("webgpu: conv2d and its two gradients", () => {
  const cases: [string, number[], number[], Y.Conv2dOptions][] = [
    ["plain", [2, 3, 7, 6], [4, 3, 3, 3], {}],
    ["stride 2, padding 1", [2, 3, 7, 6], [4, 3, 3, 3], { stride: 2, padding: 1 }],
    ["per-side padding, stride [1, 2]", [1, 2, 6, 7], [3, 2, 2, 3], { stride: [1, 2], padding: [[0, 2], [1, 0]] }],
    ["dilation 2, \"same\"", [1, 2, 7, 7], [2, 2, 3, 3], { dilation: 2, padding: "same" }],
    ["groups 2", [2, 4, 5, 5], [6, 2, 3, 3], { groups: 2, padding: 1 }],
  ];
  for (const [what, xs, ws, options] of cases) {
    it(`${what}: value, gradients of x and w, and a second derivative`, async () => {
      const x = f32(xs, 17);
      const w = f32(ws, 18);
      const conv = function* (x: Value, w: Value) { return yield* Y.conv2d(x, w, options); };
      await expectSameOnGpu(conv, [x, w], { rtol: 1e-4, atol: 1e-5 });
      const loss = function* (x: Value, w: Value) { return yield* sum(yield* Y.square(yield* Y.conv2d(x, w, options))); };
      await expectSameOnGpu(grad(loss, { argnums: [0, 1] }), [x, w], { rtol: 1e-4, atol: 1e-4 });
      await expectSameOnGpu(
        grad(function* (x: Value, w: Value) { return yield* sum(yield* Y.square(yield* grad(loss)(x, w))); }, { argnums: [0, 1] }),
        [x, w],
        { rtol: 1e-3, atol: 1e-3 },
      );
    });
  }
});

it("webgpu: convTranspose2d (stride 2, padding 1): value and gradients", async () => {
  const x = f32([2, 3, 4, 5], 20);
  const w = f32([3, 2, 3, 3], 21);
  const up = function* (x: Value, w: Value) { return yield* Y.convTranspose2d(x, w, { stride: 2, padding: 1 }); };
  await expectSameOnGpu(up, [x, w]);
  await expectSameOnGpu(grad(function* (x: Value, w: Value) { return yield* sum(yield* Y.square(yield* up(x, w))); }, { argnums: [0, 1] }), [x, w], { rtol: 1e-4, atol: 1e-4 });
});

describe("webgpu: pooling", () => {
  const x = f32([2, 3, 7, 6], 19);
  const cases: [string, Y.Pool2dOptions][] = [
    ["2×2", { size: 2 }],
    ["3×3, stride 2, padding 1", { size: 3, stride: 2, padding: 1 }],
    ["[2, 3], stride [1, 2], per-side padding", { size: [2, 3], stride: [1, 2], padding: [[1, 0], [0, 2]] }],
  ];
  for (const [what, options] of cases) {
    it(`maxPool2d ${what}: value, gradient, second derivative`, () => checkAll((x) => Y.maxPool2d(x, options), x));
    it(`avgPool2d ${what}: value, gradient, second derivative`, () => checkAll((x) => Y.avgPool2d(x, options), x));
  }
  it("maxPool2d sends a tie's gradient to the window's first maximum, as the CPU", () =>
    expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.maxPool2d(x, { size: 2 })); }), [tensor([[[[1, 1], [1, 0]]]], { dtype: "float32" })]));
});

describe("webgpu: reverse mode sums the cotangents of a value read more than once", () => {
  it("x used three times: its cotangents are added on the GPU", () =>
    expectSameOnGpu(
      grad(function* (x: Value) { return yield* sum(yield* Y.mul(yield* Y.mul(x, x), yield* Y.sin(x))); }),
      [f32([3, 4], 24)],
    ));
});

describe("webgpu: programs applied as one primitive", () => {
  it("checkpoint: its forward program and its recomputation in the backward pass run on the GPU", async () => {
    const layer = checkpoint(function* (x: Value, w: Value) { return yield* Y.tanh(yield* Y.matmul(x, w)); });
    await expectSameOnGpu(
      grad(function* (x: Value, w: Value) { return yield* sum(yield* Y.square(yield* layer(x, w))); }, { argnums: [0, 1] }),
      [f32([3, 4], 22), f32([4, 5], 23)],
    );
  });
});

describe("webgpu: vmap", () => {
  it("vmap of a dense layer and of its gradient against the CPU", async () => {
    const w = f32([5, 3], 15);
    const xs = f32([4, 5], 16);
    const layer = function* (x: Value, w: Value) { return yield* Y.tanh(yield* Y.matmul(x, w)); };
    await expectSameOnGpu(function* (xs: Value, w: Value) { return yield* vmap(layer, [0, null])(xs, w); }, [xs, w]);
    const loss = function* (x: Value, w: Value) { return yield* sum(yield* layer(x, w)); };
    await expectSameOnGpu(function* (xs: Value, w: Value) { return yield* vmap(grad(loss, { argnums: 1 }), [0, null])(xs, w); }, [xs, w]);
  });
});

describe("webgpu: layout operations", () => {
  const x = f32([2, 3, 4], 9);
  it("reshape", () => checkAll((x) => Y.reshape(x, [6, 4]), x));
  it("transpose (default and a permutation)", async () => {
    await checkAll((x) => Y.transpose(x), x);
    await checkAll((x) => Y.transpose(x, [1, 0, 2]), x);
  });
  it("broadcastTo", () => checkAll((x) => Y.broadcastTo(x, [5, 2, 3, 4]), x));
  it("slice", () => checkAll((x) => Y.slice(x, [0, 1, 1], [2, 3, 3]), x));
  it("squeeze and expandDims", async () => {
    await checkAll((x) => Y.expandDims(x, 1), x);
    await checkAll((x) => Y.squeeze(x), f32([2, 1, 3], 10));
  });
  it("concat (and its gradient, slices of the cotangent)", async () => {
    const y = f32([2, 5, 4], 11);
    await expectSameOnGpu(function* (x: Value, y: Value) { return yield* Y.concat([x, y, x], 1); }, [x, y]);
    await expectSameOnGpu(
      grad(function* (x: Value, y: Value) { return yield* sum(yield* Y.square(yield* Y.concat([x, y, x], 1))); }, { argnums: [0, 1] }),
      [x, y],
    );
  });
  it("take with repeated indices, and its gradient (scatterAdd sums the repeats)", async () => {
    await checkAll((x) => Y.take(x, [2, 0, 2, 1], 1), x);
    const pairs = tensor([[3, 3], [0, 1]]); // (a CPU tensor of indices: they are parameters, read once)
    await checkAll((x) => Y.take(x, pairs, 2), x);
  });
  it("softmaxCrossEntropy with class-index labels (take of the log-probabilities) and its gradient", () =>
    expectSameOnGpu(
      grad(function* (z: Value) { return yield* Y.softmaxCrossEntropy(z, [2, 0, 4, 4]); }),
      [f32([4, 5], 12, -2, 2)],
    ));
  it("stopGradient passes the value and stops the gradient", () =>
    expectSameOnGpu(grad(function* (x: Value) { return yield* sum(yield* Y.mul(x, yield* Y.stopGradient(x))); }), [x]));
});
