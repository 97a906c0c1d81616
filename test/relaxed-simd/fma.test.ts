// The float32 gemm with relaxed SIMD's multiply-add (f32x4.relaxed_madd), as engines with relaxed
// SIMD run it (Node 22 and later, current browsers; this project runs Node 20 with
// --experimental-wasm-relaxed-simd). Each step may round once instead of twice, so the results
// are checked against the exact products within float32's error bound for a sum of k products,
// not bit for bit; everything that must stay bit for bit (two threads against one) still is.
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { matmulKernel } from "../../src/kernels/matmul.ts";
import { conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel } from "../../src/kernels/conv.ts";
import { Tensor, allocate, type DType } from "../../src/tensor/tensor.ts";
import { Random } from "../../src/tensor/random.ts";
import { gemmFma, gemmModuleBytes, relaxedProbeBytes } from "../../src/kernels/wasm/gemm-module.ts";
import { wasmStats, wasmUnavailableReason, withWasmEnabled } from "../../src/kernels/wasm/gemm.ts";
import { setMatmulThreads, matmulThreadsUnavailableReason } from "../../src/index.ts";
import { threadSettings, threadStats } from "../../src/kernels/wasm/threads.ts";

interface Wasm {
  validate(b: Uint8Array): boolean;
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (m: object, i: object) => { exports: Record<string, (...args: number[]) => void> };
  Module: new (b: Uint8Array) => object;
}
const WA = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

const fill = (buf: Float32Array | Float64Array, seed: number): void => {
  const r = new Random(seed);
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
};
const rand = (shape: number[], dtype: DType, seed: number): Tensor => {
  const buf = allocate(dtype, shape.reduce((x, y) => x * y, 1));
  fill(buf, seed);
  return new Tensor(buf, shape);
};

/** Float32's unit roundoff: each rounding is off by at most this much, relatively. */
const U = 2 ** -24;

/**
 * got[i, j] = c0[i, j] + Σ_q A[i, q] B[q, j] to within (k + 1)·u·(|c0| + Σ|a||b|) (the bound for
 * a sum of k products, whether each step rounds once or twice), with A [m, k] and B [k, n]
 * row-major in float32 and the reference in float64.
 */
const expectWithinBound = (got: Float32Array, c0: Float32Array | null, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void => {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let exact = c0 ? c0[i * n + j]! : 0;
      let scale = Math.abs(exact);
      for (let q = 0; q < k; q++) {
        const p = a[i * k + q]! * b[q * n + j]!;
        exact += p;
        scale += Math.abs(p);
      }
      const err = Math.abs(got[i * n + j]! - exact);
      if (!(err <= 2 * (k + 1) * U * scale)) expect({ i, j, got: got[i * n + j], exact, scale }).toBe("within the float32 bound");
    }
};

describe("relaxed SIMD: the float32 gemm with multiply-add", () => {
  it("is what this engine runs (the project runs it with --experimental-wasm-relaxed-simd)", () => {
    expect(WA.validate(relaxedProbeBytes())).toBe(true);
    expect(gemmFma()).toBe(true);
    expect(gemmModuleBytes().length).toBeLessThanOrEqual(4096); // still compiles synchronously on a browser's main thread
  });

  // The module alone: operands at fixed places in a memory of its own, C accumulated into or
  // overwritten, shapes past one k-block (KC = 256) and one m-block (MC = 128), odd edges.
  const memory = new WA.Memory({ initial: 256 });
  const ex = new WA.Instance(new WA.Module(gemmModuleBytes()), { env: { memory } }).exports;
  const [A, B, C, PA, PB, S] = [0, 1, 2, 3, 4, 5].map((i) => i << 21) as [number, number, number, number, number, number];
  const dim = fc.oneof(fc.constantFrom(1, 3, 5, 7, 9, 17, 33), fc.integer({ min: 1, max: 70 }));

  it("the module's sgemm, adding to C or overwriting it, within float32's bound (property)", () => {
    fc.assert(
      fc.property(dim, fc.oneof(dim, fc.integer({ min: 250, max: 600 })), dim, fc.boolean(), fc.integer({ min: 0, max: 1 << 20 }), (m, k, n, overwrite, seed) => {
        const a = new Float32Array(memory.buffer, A, m * k);
        const b = new Float32Array(memory.buffer, B, k * n);
        const c = new Float32Array(memory.buffer, C, m * n);
        fill(a, seed);
        fill(b, seed + 1);
        if (overwrite) c.fill(NaN);
        else fill(c, seed + 2);
        const c0 = overwrite ? null : Float32Array.from(c);
        ex.sgemm!(A, B, C, m, k, n, PA, PB, S, overwrite ? 1 : 0);
        expectWithinBound(c, c0, a, b, m, k, n);
      }),
      { numRuns: 40 },
    );
  });

  it("fuses where the CPU has FMA, and rounds the same way every time", () => {
    // 1 × 1 × 1: (1 + 2⁻¹²)² − (1 + 2⁻¹¹) is 2⁻²⁴ exactly; rounding the product first loses it.
    const run = (): number => {
      const f = new Float32Array(memory.buffer);
      f[A / 4] = 1 + 2 ** -12;
      f[B / 4] = 1 + 2 ** -12;
      f[C / 4] = -(1 + 2 ** -11);
      ex.sgemm!(A, B, C, 1, 1, 1, PA, PB, S, 0);
      return f[C / 4]!;
    };
    const first = run();
    expect([0, 2 ** -24]).toContain(first);
    for (let i = 0; i < 5; i++) expect(run()).toBe(first);
  });
});

// (With YIELDIFF_NO_WASM=1 the products run in JS: there is no fused kernel to compare.)
describe.skipIf(wasmUnavailableReason() !== undefined)("relaxed SIMD: the kernels built on the gemm", () => {
  afterEach(() => {
    setMatmulThreads(1);
    threadSettings.minFlops = 2 ** 22;
  });

  /** float32 WebAssembly against the JS kernels (float64 sums), within 1e-5 of Σ|a||b|. */
  const close = (got: Tensor, want: Tensor, scale: Tensor): void => {
    expect(got.shape).toEqual(want.shape);
    for (let i = 0; i < want.size; i++)
      if (!(Math.abs(got.buf[i]! - want.buf[i]!) <= 1e-5 * scale.buf[i]! + 1e-30)) expect([i, got.buf[i]]).toEqual([i, want.buf[i]]);
  };
  const abs = (t: Tensor): Tensor => new Tensor(t.buf.map(Math.abs) as Float32Array, t.shape.slice());

  it("matmul: odd shapes past the blocks, either operand transposed, within 1e-5 of the JS path (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 140 }), fc.integer({ min: 8, max: 300 }), fc.integer({ min: 16, max: 70 }), fc.boolean(), fc.boolean(),
        fc.integer({ min: 0, max: 1 << 20 }),
        (m, k, n, tA, tB, seed) => {
          const a = rand(tA ? [k, m] : [m, k], "float32", seed);
          const b = rand(tB ? [n, k] : [k, n], "float32", seed + 1);
          const calls = wasmStats.calls;
          const got = matmulKernel(a, b, tA, tB);
          expect(wasmStats.calls).toBeGreaterThan(calls);
          const want = withWasmEnabled(false, () => matmulKernel(a, b, tA, tB));
          close(got, want, withWasmEnabled(false, () => matmulKernel(abs(a), abs(b), tA, tB)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("conv2d and its two gradients within 1e-5 of the JS path", () => {
    const x = rand([3, 4, 13, 11], "float32", 1);
    const w = rand([6, 4, 3, 3], "float32", 2);
    const s = [1, 2] as const;
    const p = [1, 0] as const;
    const y = conv2dKernel(x, w, s, p);
    const ct = rand(y.shape.slice(), "float32", 3);
    const js = <T>(f: () => T): T => withWasmEnabled(false, f);
    close(y, js(() => conv2dKernel(x, w, s, p)), js(() => conv2dKernel(abs(x), abs(w), s, p)));
    close(
      conv2dInputGradKernel(ct, w, x.shape, s, p),
      js(() => conv2dInputGradKernel(ct, w, x.shape, s, p)),
      js(() => conv2dInputGradKernel(abs(ct), abs(w), x.shape, s, p)),
    );
    close(
      conv2dWeightGradKernel(x, ct, w.shape, s, p),
      js(() => conv2dWeightGradKernel(x, ct, w.shape, s, p)),
      js(() => conv2dWeightGradKernel(abs(x), abs(ct), w.shape, s, p)),
    );
  });

  it("two threads give the one-thread bits (the worker builds the same module)", () => {
    setMatmulThreads(2);
    if (matmulThreadsUnavailableReason() !== undefined) return; // (no worker_threads here: nothing to compare)
    threadSettings.minFlops = 0;
    const a = rand([96, 200], "float32", 7);
    const b = rand([200, 72], "float32", 8);
    const before = threadStats.calls;
    const two = matmulKernel(a, b, false, false);
    expect(threadStats.calls).toBe(before + 1);
    threadSettings.minFlops = Infinity;
    const one = matmulKernel(a, b, false, false);
    expect(Array.from(two.buf)).toEqual(Array.from(one.buf));
  });
});
