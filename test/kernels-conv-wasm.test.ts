// The convolution and max-pooling kernels that run whole in the WebAssembly arena
// (src/kernels/wasm/conv-module.ts, pool-module.ts) against the pure-JS path
// (setWasmEnabled(false)) on random geometry: odd sizes, strides, paddings, overlapping windows,
// channel counts that are not multiples of the SIMD width. float64 exactly where the order of
// operations is the same (pooling; the convolutions when the product's k is at most 4, one group
// of the JS gemm added to zero), else within 1e-12; float32 within 1e-5 of the magnitude of the
// terms.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { conv2dInputGradKernel, conv2dKernel, conv2dWeightGradKernel } from "../src/kernels/conv.ts";
import { maxPool2dGatherKernel, maxPool2dKernel, maxPool2dScatterKernel } from "../src/kernels/pool.ts";
import { wasmSimdSupported, wasmStats, withWasmEnabled } from "../src/kernels/wasm/gemm.ts";
import { convModuleBytes } from "../src/kernels/wasm/conv-module.ts";
import { poolModuleBytes } from "../src/kernels/wasm/pool-module.ts";
import { Tensor, allocate, type Buffer, type DType } from "../src/tensor/tensor.ts";
import { Random } from "../src/tensor/random.ts";

// (the project's TypeScript libs do not declare WebAssembly)
const WA = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const rand = (shape: number[], dtype: DType, seed: number, levels = 0): Tensor => {
  const r = new Random(seed);
  const buf = allocate(dtype, sizeOf(shape));
  // levels > 0: a few distinct values, so windows hold ties.
  for (let i = 0; i < buf.length; i++) buf[i] = levels > 0 ? Math.floor(r.uniform() * levels) : r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};
const abs = (t: Tensor): Tensor => new Tensor(t.buf.map(Math.abs) as Buffer, t.shape.slice());

const withWasm = withWasmEnabled;

/** max |fast - slow| / scale (scale: the same computation on absolute values). */
const relError = (fast: Tensor, slow: Tensor, scale: Tensor): number => {
  expect(fast.shape).toEqual(slow.shape);
  expect(fast.dtype).toBe(slow.dtype);
  let worst = 0;
  for (let i = 0; i < fast.size; i++) {
    const d = Math.abs(fast.buf[i]! - slow.buf[i]!);
    if (d !== 0) worst = Math.max(worst, d / scale.buf[i]!);
  }
  return worst;
};
const same = (a: Tensor, b: Tensor): void => {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  expect(Array.from(a.buf)).toEqual(Array.from(b.buf)); // toEqual: NaN equals NaN, -0 is not 0
};

describe("the modules", () => {
  it("validate, and stay under 4 KB (synchronous compilation on a browser's main thread)", () => {
    for (const bytes of [convModuleBytes(), poolModuleBytes()]) {
      expect(bytes.length).toBeLessThan(4096);
      if (wasmSimdSupported()) expect(WA.validate(bytes)).toBe(true);
    }
  });
});

describe("conv2d in the arena equals the JS path", () => {
  const geometry = fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      c: fc.integer({ min: 1, max: 6 }),
      o: fc.integer({ min: 1, max: 11 }),
      h: fc.integer({ min: 1, max: 17 }),
      w: fc.integer({ min: 1, max: 17 }),
      kh: fc.integer({ min: 1, max: 5 }),
      kw: fc.integer({ min: 1, max: 5 }),
      sh: fc.integer({ min: 1, max: 3 }),
      sw: fc.integer({ min: 1, max: 3 }),
      ph: fc.integer({ min: 0, max: 2 }),
      pw: fc.integer({ min: 0, max: 2 }),
      dtype: fc.constantFrom<DType>("float32", "float64"),
      seed: fc.integer(),
    })
    .filter((g) => g.kh <= g.h + 2 * g.ph && g.kw <= g.w + 2 * g.pw);

  it("forward, input gradient and weight gradient (property)", () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const s: [number, number] = [g.sh, g.sw], p: [number, number] = [g.ph, g.pw];
        const x = rand([g.n, g.c, g.h, g.w], g.dtype, g.seed);
        const w = rand([g.o, g.c, g.kh, g.kw], g.dtype, g.seed ^ 1);
        const y = withWasm(false, () => conv2dKernel(x, w, s, p));
        const ct = rand(y.shape.slice(), g.dtype, g.seed ^ 2);
        // The products' k: C*KH*KW forward, O for the input gradient; the weight gradient's JS
        // kernel sums each image's terms before adding them, so its order always differs.
        const cases: [boolean, (x: Tensor, w: Tensor, ct: Tensor) => Tensor][] = [
          [g.c * g.kh * g.kw <= 4, (x, w) => conv2dKernel(x, w, s, p)],
          [g.o <= 4, (_, w, ct) => conv2dInputGradKernel(ct, w, x.shape, s, p)],
          [false, (x, _, ct) => conv2dWeightGradKernel(x, ct, w.shape, s, p)],
        ];
        for (const [sameOrder, f] of cases) {
          const fast = withWasm(true, () => f(x, w, ct));
          const slow = withWasm(false, () => f(x, w, ct));
          if (g.dtype === "float64" && sameOrder) same(fast, slow);
          else expect(relError(fast, slow, withWasm(false, () => f(abs(x), abs(w), abs(ct))))).toBeLessThanOrEqual(g.dtype === "float32" ? 1e-5 : 1e-12);
        }
      }),
      { numRuns: 80 },
    );
  });

  it("W6's shapes run in the arena, one product per image, and match", () => {
    if (!wasmSimdSupported()) return;
    const x = rand([3, 10, 12, 12], "float32", 1), w = rand([20, 10, 5, 5], "float32", 2), ct = rand([3, 20, 8, 8], "float32", 3);
    const s: [number, number] = [1, 1], p: [number, number] = [0, 0];
    for (const f of [
      () => conv2dKernel(x, w, s, p),
      () => conv2dInputGradKernel(ct, w, x.shape, s, p),
      () => conv2dWeightGradKernel(x, ct, w.shape, s, p),
    ]) {
      const calls = wasmStats.calls;
      const fast = withWasm(true, f);
      expect(wasmStats.calls).toBe(calls + 3);
      const slow = withWasm(false, f);
      expect(fast.dtype).toBe("float32");
      const scale = Math.max(...Array.from(slow.buf, Math.abs));
      for (let i = 0; i < fast.size; i++) expect(Math.abs(fast.buf[i]! - slow.buf[i]!)).toBeLessThanOrEqual(1e-5 * scale);
    }
  });

  it("mixed dtypes compute in float64 in the arena too", () => {
    const x = rand([2, 1, 9, 9], "float32", 4), w = rand([5, 1, 2, 2], "float64", 5);
    const calls = wasmStats.calls;
    const fast = withWasm(true, () => conv2dKernel(x, w, [1, 1], [1, 1]));
    if (wasmSimdSupported()) expect(wasmStats.calls).toBe(calls + 2);
    same(fast, withWasm(false, () => conv2dKernel(x, w, [1, 1], [1, 1])));
    expect(fast.dtype).toBe("float64");
  });
});

describe("max pooling's gather and scatter in the arena equal the JS path", () => {
  const geometry = fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      c: fc.integer({ min: 1, max: 5 }),
      h: fc.integer({ min: 1, max: 19 }),
      w: fc.integer({ min: 1, max: 19 }),
      kh: fc.integer({ min: 1, max: 4 }),
      kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 4 }),
      sw: fc.integer({ min: 1, max: 4 }),
      xType: fc.constantFrom<DType>("float32", "float64"),
      vType: fc.constantFrom<DType>("float32", "float64"),
      levels: fc.constantFrom(0, 3), // 3: ties in most windows
      nans: fc.boolean(),
      seed: fc.integer(),
    })
    .filter((g) => g.kh <= g.h && g.kw <= g.w && g.n * g.c * g.h * g.w >= 256); // smaller inputs stay in JS

  const input = (g: { n: number; c: number; h: number; w: number; xType: DType; levels: number; nans: boolean; seed: number }): Tensor => {
    const x = rand([g.n, g.c, g.h, g.w], g.xType, g.seed, g.levels);
    if (g.nans) for (let i = 0; i < x.size; i += 7) x.buf[(i * 13) % x.size] = NaN;
    return x;
  };

  it("gather(x, x), gather(x, v) and scatter(x, c), ties and NaN included (property)", () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const x = input(g);
        const size: [number, number] = [g.kh, g.kw], stride: [number, number] = [g.sh, g.sw];
        const outShape = maxPool2dKernel(x, size, stride).out.shape.slice();
        const v = rand(x.shape.slice(), g.vType, g.seed ^ 1);
        const c = rand(outShape, g.vType, g.seed ^ 2);
        same(withWasm(true, () => maxPool2dGatherKernel(x, x, size, stride)), withWasm(false, () => maxPool2dGatherKernel(x, x, size, stride)));
        same(withWasm(true, () => maxPool2dGatherKernel(x, v, size, stride)), withWasm(false, () => maxPool2dGatherKernel(x, v, size, stride)));
        const fast = withWasm(true, () => maxPool2dScatterKernel(x, c, size, stride));
        const slow = withWasm(false, () => maxPool2dScatterKernel(x, c, size, stride));
        // Overlapping windows add into one element: float32 sums there in single precision.
        const overlap = g.sh < g.kh || g.sw < g.kw;
        if (g.vType === "float64" || !overlap) same(fast, slow);
        else expect(relError(fast, slow, withWasm(false, () => maxPool2dScatterKernel(x, abs(c), size, stride)))).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 150 },
    );
  });

  it("the gather of x is the JS max pool's output; the first NaN wins", () => {
    const x = rand([2, 3, 10, 10], "float32", 9, 4);
    x.buf[0 * 10 + 1] = NaN; // second element of the first window
    x.buf[1 * 10 + 0] = NaN; // third element of the same window
    const fast = withWasm(true, () => maxPool2dGatherKernel(x, x, [2, 2], [2, 2]));
    same(fast, maxPool2dKernel(x, [2, 2], [2, 2]).out);
    const c = rand(fast.shape.slice(), "float32", 10);
    const dx = withWasm(true, () => maxPool2dScatterKernel(x, c, [2, 2], [2, 2]));
    expect(dx.buf[1]).toBe(c.buf[0]);
    expect(dx.buf[10]).toBe(0);
  });
});
