// Weights pinned in WebAssembly memory for a compiled call (src/kernels/resident.ts): the pinned
// matrix-vector products equal the ordinary kernel; a buffer that changes inside the call (a
// loop's matrix) is never served stale.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, jit, matmul, mul, reshape, run, scan, sum, tanh, Tensor, valueAndGrad, type Value } from "../src/index.ts";
import { matmulKernel } from "../src/kernels/matmul.ts";
import { beginCall, endCall, pinnedMatvec } from "../src/kernels/resident.ts";
import { WASM_MIN_FLOPS, wasmSimdSupported, withWasmEnabled } from "../src/kernels/wasm/gemm.ts";
import { randomTensor } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";

/** Inside a compiled call's bounds, with the WebAssembly path on (also under YIELDIFF_NO_WASM). */
const within = <T>(f: () => T): T =>
  withWasmEnabled(true, () => {
    beginCall();
    try {
      return f();
    } finally {
      endCall();
    }
  });

const as32 = (t: Tensor): Tensor => new Tensor(Float32Array.from(t.buf), t.shape);

describe.runIf(wasmSimdSupported())("pinned weights", () => {
  it("a few rows times a pinned matrix (and its transpose) = the kernel; the second use reads the pin", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 90 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        (m, k, n, transB, f32, seed) => {
          const conv = f32 ? as32 : (t: Tensor) => t;
          const a = conv(randomTensor([m, k], seed));
          const b = conv(randomTensor(transB ? [n, k] : [k, n], seed + 1));
          const a2 = conv(randomTensor([m, k], seed + 2));
          const [p, q] = within(() => [pinnedMatvec(a, b, false, transB), pinnedMatvec(a2, b, false, transB)]);
          if (m * k * n < WASM_MIN_FLOPS[f32 ? "f32" : "f64"]) {
            expect(p).toBeNull(); // small: the ordinary kernel (in JS)
            return;
          }
          expectSame(p, matmulKernel(a, b, false, transB), f32 ? 1e-5 : 1e-12);
          expectSame(q, matmulKernel(a2, b, false, transB), f32 ? 1e-5 : 1e-12);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("not outside a compiled call, not for more rows or a transposed left operand", () => {
    const b = randomTensor([40, 40], 1);
    expect(withWasmEnabled(true, () => pinnedMatvec(randomTensor([1, 40], 2), b, false, false))).toBeNull();
    within(() => {
      expect(pinnedMatvec(randomTensor([4, 40], 2), b, false, false)).toBeNull();
      expect(pinnedMatvec(randomTensor([40, 1], 2), b, true, false)).toBeNull();
    });
  });
});

describe("pinned weights in compiled programs", () => {
  it("a loop whose matrix changes every step is never served a stale pin", () => {
    // W_t = tanh(M · sum(x_t)) is a fused loop's result read only by the matmul: its buffer is
    // reused from step to step, so it must not be pinned
    function* f(M0: Value, xs: Value) {
      const [, ys] = yield* scan(
        function* (M: Value, x: Value) {
          const W = yield* tanh(yield* mul(yield* mul(M, yield* sum(x)), 0.5));
          const y = yield* matmul(yield* reshape(x, [1, 40]), W);
          return [M, y] as [Value, Value];
        },
        M0,
        xs,
      );
      return yield* sum(yield* mul(ys, ys));
    }
    const M0 = randomTensor([40, 40], 3);
    const xs = randomTensor([6, 40], 4);
    expectSame(run(jit(f), M0, xs), run(f, M0, xs));
    expectSame(run(jit(valueAndGrad(f)), M0, xs), run(valueAndGrad(f), M0, xs));
    // the same weight used by many products in one call, and again in the next call
    function* g(W: Value, xs: Value) {
      let s: Value = 0;
      for (let t = 0; t < 5; t++) s = yield* add(s, yield* sum(yield* mul(yield* matmul(yield* reshape(yield* mul(xs, t), [2, 40]), W), 0.5)));
      return s;
    }
    const W = randomTensor([40, 50], 5);
    const jg = jit(valueAndGrad(g));
    for (const seed of [6, 7]) expectSame(run(jg, W, randomTensor([80], seed)), run(valueAndGrad(g), W, randomTensor([80], seed)), 1e-12);
  });
});
