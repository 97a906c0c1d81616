// The WebAssembly SIMD gemm against the JS kernels: the raw kernels bit for bit against a
// sequential loop in the same precision, matmulKernel and the three conv2d kernels against the
// pure-JS path (setWasmEnabled(false)), the switches, and the arena staying bounded.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { matmulKernel } from "../src/kernels/matmul.ts";
import { conv2dKernel, conv2dInputGradKernel, conv2dWeightGradKernel } from "../src/kernels/conv.ts";
import { Tensor, allocate, type Buffer, type DType } from "../src/tensor/tensor.ts";
import { Random } from "../src/tensor/random.ts";
import { sleb, uleb } from "../src/kernels/wasm/asm.ts";
import { DGEMM, SGEMM, gemmFma, gemmModuleBytes, nr } from "../src/kernels/wasm/gemm-module.ts";
import { gemvModuleBytes } from "../src/kernels/wasm/gemv-module.ts";
import {
  GEMV_MAX_ROWS, WASM_MIN_FLOPS, reserveWasmGemm, wasmMatmul, setWasmEnabled, useWasmGemm, wasmArenaBytes, wasmEnabled, wasmGemm, wasmSimdSupported, wasmStats,
  wasmUnavailableReason, withWasmEnabled, type Precision,
} from "../src/kernels/wasm/gemm.ts";

// Read before any test toggles the switch.
const enabledAtImport = wasmEnabled();
const envNoWasm = ["1", "true"].includes(process.env.YIELDIFF_NO_WASM ?? "");

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const fill = (buf: Buffer, seed: number): Buffer => {
  const r = new Random(seed);
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return buf;
};
const rand = (shape: number[], dtype: DType, seed: number): Tensor => new Tensor(fill(allocate(dtype, sizeOf(shape)), seed), shape);
const abs = (t: Tensor): Tensor => new Tensor(t.buf.map(Math.abs) as Buffer, t.shape.slice());

const withWasm = withWasmEnabled;

/** Sizes that are not multiples of the SIMD width (4 / 2), the register tile (4 x 8, 4 x 4) or the blocks. */
const odd = fc.constantFrom(1, 2, 3, 5, 7, 9, 17, 33, 65);
const dim = fc.oneof(odd, fc.integer({ min: 1, max: 70 }));

describe("the assembler", () => {
  it("encodes LEB128 like the spec's examples", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it("generates a module the engine validates, from source at load time", () => {
    const bytes = gemmModuleBytes();
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(WA.validate(bytes)).toBe(wasmSimdSupported());
    // The probe and the module agree, and Node >= 20 has SIMD.
    expect(wasmSimdSupported()).toBe(true);
    // Browsers compile modules up to 4 KB synchronously on the main thread (larger ones only async).
    expect(bytes.length).toBeLessThanOrEqual(4096);
    const gemv = gemvModuleBytes();
    expect(WA.validate(gemv)).toBe(true);
    expect(gemv.length).toBeLessThanOrEqual(4096);
  });
});

/**
 * c[i, j] = (((c + a_i0 b_0j) + a_i1 b_1j) + ...) with every product and sum rounded to the
 * precision (Math.fround for f32: double rounding is innocuous for + and * from f64 to f32).
 */
const sequential = (
  p: Precision, a: Buffer, ao: number, ars: number, acs: number, b: Buffer, bo: number, brs: number, bcs: number,
  c: Float64Array, m: number, k: number, n: number,
): void => {
  const r = p === "f32" ? Math.fround : (x: number) => x;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = c[i * n + j]!;
      for (let q = 0; q < k; q++) s = r(s + r(a[ao + i * ars + q * acs]! * b[bo + q * brs + j * bcs]!));
      c[i * n + j] = s;
    }
};

const same = (got: Buffer, want: Float64Array): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect([i, got[i]]).toEqual([i, want[i]]);
};

describe("raw kernels equal a sequential loop in the same precision, bit for bit", () => {
  const run = (p: Precision, m: number, k: number, n: number, transA: boolean, transB: boolean, seed: number, poke?: (a: Buffer, b: Buffer) => void) => {
    const make = (len: number, s: number): Buffer => fill(p === "f32" ? new Float32Array(len) : new Float64Array(len), s);
    const ao = seed % 3, bo = (seed >> 2) % 5;
    const a = make(ao + m * k, seed);
    const b = make(bo + k * n, seed + 1);
    poke?.(a, b);
    const [ars, acs] = transA ? [1, m] : [k, 1];
    const [brs, bcs] = transB ? [1, k] : [n, 1];
    const c = make(m * n, seed + 2);
    const want = Float64Array.from(c);
    sequential(p, a, ao, ars, acs, b, bo, brs, bcs, want, m, k, n);
    expect(reserveWasmGemm(p, m, k, n)).toBe(true);
    wasmGemm(p, a, ao, ars, acs, b, bo, brs, bcs, c, 0, m, k, n);
    same(c, want);
  };

  it("random shapes with odd sizes, transposed operands, offsets, accumulating into c (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Precision>("f32", "f64"), dim, dim, dim, fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1 << 20 }),
        (p, m, k, n, ta, tb, seed) => run(p, m, k, n, ta, tb, seed),
      ),
      { numRuns: 60 },
    );
  });

  it("shapes beyond one k-block and one m-block (KC = 256, MC = 128 / 64), with edges", () => {
    for (const p of ["f32", "f64"] as const) {
      run(p, 131, 261, 37, false, false, 7);
      run(p, 65, 513, 9, true, false, 8);
      run(p, 1, 300, 1, false, true, 9);
    }
    expect(SGEMM.kc).toBeLessThan(261);
    expect(SGEMM.mc).toBeLessThan(131);
    expect(DGEMM.mc).toBeLessThan(65);
  });

  it("infinities and NaN propagate only where they belong (no 0 * inf from k or edge padding)", () => {
    for (const p of ["f32", "f64"] as const)
      for (const [m, k, n] of [[5, 7, 9], [3, 6, 11], [9, 1, 3], [6, 13, 5]] as const)
        // A[m-1, k-1] = inf (an edge row, the last k-step), B[k-1, n-1] = NaN, B[k-1, 0] = -inf.
        run(p, m, k, n, false, false, m * k * n, (a, b) => {
          a[a.length - 1] = Infinity;
          b[b.length - 1] = NaN;
          b[b.length - n] = -Infinity;
        });
  });

  it("the float32 kernel adds without fusing here (the test project sets YIELDIFF_NO_FMA; test/relaxed-simd checks the fused one)", () => {
    expect(process.env.YIELDIFF_NO_FMA).toBe("1");
    expect(gemmFma()).toBe(false);
  });

  it("the register tiles are what the edge cases above exercise", () => {
    expect(nr(SGEMM)).toBe(8);
    expect(nr(DGEMM)).toBe(4);
    expect(SGEMM.mr).toBe(4);
  });
});

describe("the module's gemm with overwrite = 1 replaces C, whatever C held", () => {
  type Gemm = (a: number, b: number, c: number, m: number, k: number, n: number, pA: number, pB: number, s: number, overwrite?: number) => void;
  const W = globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
      Instance: new (m: object, i: object) => { exports: Record<string, Gemm> };
      Module: new (b: Uint8Array) => object;
    };
  };
  const memory = new W.WebAssembly.Memory({ initial: 256 }); // 16 MiB
  const ex = new W.WebAssembly.Instance(new W.WebAssembly.Module(gemmModuleBytes()), { env: { memory } }).exports;
  // a, b, c, packed A, packed B, scratch: 2 MiB apart
  const [A, B, C, PA, PB, S] = [0, 1, 2, 3, 4, 5].map((i) => i << 21) as [number, number, number, number, number, number];

  const run = (p: Precision, m: number, k: number, n: number, seed: number, overwrite: boolean): void => {
    const V = p === "f32" ? Float32Array : Float64Array;
    const es = V.BYTES_PER_ELEMENT;
    const a = fill(new V(memory.buffer, A, m * k), seed);
    const b = fill(new V(memory.buffer, B, k * n), seed + 1);
    const c = new V(memory.buffer, C, m * n);
    // What C holds: NaN (would poison any sum it entered) or values to add to.
    if (overwrite) c.fill(NaN);
    else fill(c, seed + 2);
    // Packing buffers and the scratch tile hold stale NaNs too: nothing may read them unwritten.
    new V(memory.buffer, PA, (1 << 21) / es).fill(NaN);
    new V(memory.buffer, S, 64).fill(NaN);
    const want = overwrite ? new Float64Array(m * n) : Float64Array.from(c);
    sequential(p, a, 0, k, 1, b, 0, n, 1, want, m, k, n);
    (p === "f32" ? ex.sgemm! : ex.dgemm!)(A, B, C, m, k, n, PA, PB, S, overwrite ? 1 : 0);
    same(c, want);
  };

  it("edges, several k-blocks (the later ones add), odd sizes (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Precision>("f32", "f64"), dim, fc.oneof(dim, fc.integer({ min: 250, max: 600 })), dim, fc.boolean(),
        fc.integer({ min: 0, max: 1 << 20 }),
        (p, m, k, n, overwrite, seed) => run(p, m, k, n, seed, overwrite),
      ),
      { numRuns: 60 },
    );
  });

  it("an argument left out adds, as before", () => {
    const c = new Float32Array(memory.buffer, C, 4 * 8);
    fill(new Float32Array(memory.buffer, A, 4 * 3), 1);
    fill(new Float32Array(memory.buffer, B, 3 * 8), 2);
    c.fill(1);
    ex.sgemm!(A, B, C, 4, 3, 8, PA, PB, S);
    const want = new Float64Array(32).fill(1);
    sequential("f32", new Float32Array(memory.buffer, A, 12), 0, 3, 1, new Float32Array(memory.buffer, B, 24), 0, 8, 1, want, 4, 3, 8);
    same(c, want);
  });
});

/**
 * Whether wasmMatmul runs this product through the dots kernel (SIMD lanes split the k sum, so
 * the order differs from the sequential loop); rows, outer and the blocked gemm sum in k order.
 */
const viaDots = (m: number, k: number, n: number, transA: boolean, transB: boolean): boolean =>
  k > 1 && (m <= GEMV_MAX_ROWS ? transB || n === 1 : n === 1 && !transA);

describe("wasmMatmul (overwriting C; gemv kernels for row-vector shapes) against a sequential loop", () => {
  const make = (p: Precision, len: number, s: number): Buffer => fill(p === "f32" ? new Float32Array(len) : new Float64Array(len), s);

  /** wasmMatmul over garbage in c against the sequential loop from zero: bit for bit where the
   * order matches, else within 1e-5 (f32) / 1e-12 (f64) of sum |a||b|, NaN and inf in place. */
  const run = (p: Precision, m: number, k: number, n: number, transA: boolean, transB: boolean, seed: number, poke?: (a: Buffer, b: Buffer) => void) => {
    const ao = seed % 3, bo = (seed >> 2) % 5, co = (seed >> 4) % 3;
    const a = make(p, ao + m * k, seed), b = make(p, bo + k * n, seed + 1);
    poke?.(a, b);
    const ars = transA ? 1 : k, acs = transA ? m : 1, brs = transB ? 1 : n, bcs = transB ? k : 1;
    const want = new Float64Array(m * n);
    sequential(p, a, ao, ars, acs, b, bo, brs, bcs, want, m, k, n);
    const c = make(p, co + m * n, seed + 2); // garbage: it must be overwritten, not added to
    expect(reserveWasmGemm(p, m, k, n)).toBe(true);
    const calls = wasmStats.calls;
    wasmMatmul(p, a, ao, ars, acs, b, bo, brs, bcs, c, co, m, k, n);
    expect(wasmStats.calls).toBe(calls + 1);
    const got = c.subarray(co);
    if (!viaDots(m, k, n, transA, transB)) return same(got, want);
    const scale = new Float64Array(m * n);
    const absA = a.map(Math.abs) as Buffer, absB = b.map(Math.abs) as Buffer;
    sequential("f64", absA, ao, ars, acs, absB, bo, brs, bcs, scale, m, k, n);
    const tol = p === "f32" ? 1e-5 : 1e-12;
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!, g = got[i]!;
      if (Number.isNaN(w) || !Number.isFinite(w)) expect([i, g]).toEqual([i, w]);
      else if (Math.abs(g - w) > tol * scale[i]!) expect([i, g]).toEqual([i, w]);
    }
  };

  const few = fc.integer({ min: 1, max: GEMV_MAX_ROWS });
  it("row vectors and a few rows, either operand transposed, odd sizes (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom<Precision>("f32", "f64"), few, dim, dim, fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1 << 20 }),
        (p, m, k, n, ta, tb, seed) => run(p, m, k, n, ta, tb, seed)),
      { numRuns: 60 },
    );
  });

  it("outer products (k = 1), matrix x column (n = 1), and the blocked gemm overwriting (property)", () => {
    const shape = fc.oneof(
      fc.tuple(dim, fc.constant(1), dim),
      fc.tuple(dim, dim, fc.constant(1)),
      fc.tuple(fc.integer({ min: GEMV_MAX_ROWS + 1, max: 70 }), dim, dim),
    );
    fc.assert(
      fc.property(fc.constantFrom<Precision>("f32", "f64"), shape, fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1 << 20 }),
        (p, [m, k, n], ta, tb, seed) => run(p, m, k, n, ta, tb, seed)),
      { numRuns: 60 },
    );
  });

  it("long rows (k and n past any block), each kernel", () => {
    for (const p of ["f32", "f64"] as const) {
      run(p, 1, 150, 750, false, false, 1); // rows
      run(p, 1, 750, 150, false, true, 2); // dots
      run(p, 150, 1, 750, true, false, 3); // outer
      run(p, 450, 300, 1, false, false, 4); // n = 1: dots on the mirrored problem
      run(p, 450, 301, 1, true, false, 5); // n = 1, A transposed: rows on the mirrored problem
      run(p, 3, 257, 33, true, true, 6);
      run(p, 37, 261, 45, true, true, 7); // blocked gemm, both operands turned by the module
    }
  });

  it("infinities and NaN land where the sequential loop puts them (no 0 * inf from padding or overruns)", () => {
    const cases: [number, number, number, boolean, boolean][] = [
      [1, 7, 9, false, false], [2, 6, 5, false, true], [3, 9, 1, false, false], [7, 1, 6, false, false], [9, 5, 1, false, false],
      [9, 7, 1, true, false], [1, 3, 11, true, true],
    ];
    // NaN left in the arena by earlier dots products with longer rows: padding lanes of x and of
    // the tail scratch must be zeroed again, not trusted.
    const poison = (p: Precision, m: number, k: number, n: number): void => {
      for (let kk = k + 1; kk <= k + 3; kk++) {
        const nan = (len: number): Buffer => (p === "f32" ? new Float32Array(len) : new Float64Array(len)).fill(NaN);
        reserveWasmGemm(p, m, kk, n);
        wasmMatmul(p, nan(m * kk), 0, kk, 1, nan(kk * n), 0, 1, kk, nan(m * n), 0, Math.min(m, GEMV_MAX_ROWS), kk, n);
      }
    };
    for (const p of ["f32", "f64"] as const)
      for (const [m, k, n, ta, tb] of cases) {
        poison(p, m, k, n);
        run(p, m, k, n, ta, tb, m * k * n, (a, b) => {
          a[a.length - 1] = Infinity;
          b[b.length - 1] = NaN;
          b[b.length - 2] = -Infinity;
        });
      }
  });
});

/** max over outputs of |x - y| / sum_p |a||b| (the normwise relative error; 0 where the scale is 0). */
const relError = (x: Tensor, y: Tensor, scale: Tensor): number => {
  expect(x.shape).toEqual(y.shape);
  expect(x.dtype).toBe(y.dtype);
  let worst = 0;
  for (let i = 0; i < x.size; i++) {
    const d = Math.abs(x.buf[i]! - y.buf[i]!);
    if (d === 0) continue;
    worst = Math.max(worst, d / scale.buf[i]!);
  }
  return worst;
};

const tolerance = (dtype: DType): number => (dtype === "float32" ? 1e-5 : 1e-12);

describe("matmulKernel: WebAssembly equals the JS path", () => {
  it("float64 exactly when k <= 5 (same order of operations), else within 1e-12; float32 within 1e-5 (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<DType>("float32", "float64"), fc.constantFrom<DType>("float32", "float64"),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), dim, dim, dim, fc.integer(),
        (da, db, batch, m, k, n, seed) => {
          const a = rand([...batch, m, k], da, seed);
          const b = rand([k, n], db, seed ^ 0x5555);
          const dtype: DType = da === "float64" || db === "float64" ? "float64" : "float32";
          const calls = wasmStats.calls;
          const fast = withWasm(true, () => matmulKernel(a, b));
          const usedWasm = wasmStats.calls > calls;
          expect(usedWasm).toBe(m * k * n >= WASM_MIN_FLOPS[dtype === "float32" ? "f32" : "f64"]);
          const slow = withWasm(false, () => matmulKernel(a, b));
          expect(wasmStats.calls).toBe(calls + (usedWasm ? sizeOf(batch) : 0));
          expect(fast.dtype).toBe(dtype);
          if (dtype === "float64" && k <= 5) expect(Array.from(fast.buf)).toEqual(Array.from(slow.buf));
          else expect(relError(fast, slow, withWasm(false, () => matmulKernel(abs(a), abs(b))))).toBeLessThanOrEqual(tolerance(dtype));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("row vectors, outer products, columns, either operand transposed, batch dims (property)", () => {
    const small = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: GEMV_MAX_ROWS + 1 }), dim);
    fc.assert(
      fc.property(
        fc.constantFrom<DType>("float32", "float64"), fc.constantFrom<DType>("float32", "float64"),
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.boolean(), small, small, small, fc.boolean(), fc.boolean(), fc.integer(),
        (da, db, batch, batchB, m, k, n, ta, tb, seed) => {
          const a = rand([...batch, ta ? k : m, ta ? m : k], da, seed);
          const b = rand([...(batchB ? batch : []), tb ? n : k, tb ? k : n], db, seed ^ 0x5555);
          const dtype: DType = da === "float64" || db === "float64" ? "float64" : "float32";
          const calls = wasmStats.calls;
          const fast = withWasm(true, () => matmulKernel(a, b, ta, tb));
          const usedWasm = wasmStats.calls > calls;
          expect(usedWasm).toBe(m * k * n >= WASM_MIN_FLOPS[dtype === "float32" ? "f32" : "f64"]);
          const slow = withWasm(false, () => matmulKernel(a, b, ta, tb));
          expect(fast.shape).toEqual([...batch, m, n]);
          // The JS kernel sums one row, or k <= 5 terms, in k order; so do all kernels but dots.
          if (dtype === "float64" && !viaDots(m, k, n, ta, tb) && (m === 1 || k <= 5)) expect(Array.from(fast.buf)).toEqual(Array.from(slow.buf));
          else expect(relError(fast, slow, withWasm(false, () => matmulKernel(abs(a), abs(b), ta, tb)))).toBeLessThanOrEqual(tolerance(dtype));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("broadcast batch on either side", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const a = rand([2, 1, 17, 33], dtype, 1), b = rand([3, 33, 9], dtype, 2);
      const fast = withWasm(true, () => matmulKernel(a, b));
      const slow = withWasm(false, () => matmulKernel(a, b));
      expect(fast.shape).toEqual([2, 3, 17, 9]);
      expect(relError(fast, slow, withWasm(false, () => matmulKernel(abs(a), abs(b))))).toBeLessThanOrEqual(tolerance(dtype));
    }
  });

  it("a large float32 product (512 x 64 x 96) matches to 1e-5", () => {
    const a = rand([512, 64], "float32", 3), b = rand([64, 96], "float32", 4);
    const calls = wasmStats.calls;
    const fast = withWasm(true, () => matmulKernel(a, b));
    expect(wasmStats.calls).toBe(calls + 1);
    const slow = withWasm(false, () => matmulKernel(a, b));
    expect(relError(fast, slow, withWasm(false, () => matmulKernel(abs(a), abs(b))))).toBeLessThanOrEqual(1e-5);
  });
});

// The conv kernels' WebAssembly paths against JS over random geometry: test/kernels-conv-wasm.test.ts.
describe("conv2d kernels: the switch", () => {
  it("a conv big enough for every product to run in WebAssembly does so, and the switch turns it off", () => {
    const x = rand([2, 3, 12, 12], "float64", 5), w = rand([8, 3, 3, 3], "float64", 6);
    const s: [number, number] = [1, 1], p: [number, number] = [1, 1];
    const ct = rand([2, 8, 12, 12], "float64", 7);
    for (const f of [
      (x: Tensor, w: Tensor) => conv2dKernel(x, w, s, p),
      (_: Tensor, w: Tensor, ct: Tensor) => conv2dInputGradKernel(ct, w, x.shape, s, p),
      (x: Tensor, _: Tensor, ct: Tensor) => conv2dWeightGradKernel(x, ct, w.shape, s, p),
    ]) {
      let calls = wasmStats.calls;
      const fast = withWasm(true, () => f(x, w, ct));
      expect(wasmStats.calls).toBe(calls + 2); // one product per image
      calls = wasmStats.calls;
      const slow = withWasm(false, () => f(x, w, ct));
      expect(wasmStats.calls).toBe(calls);
      expect(relError(fast, slow, withWasm(false, () => f(abs(x), abs(w), abs(ct))))).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe("switches and memory", () => {
  it("YIELDIFF_NO_WASM=1 disables the path at import", async () => {
    expect(enabledAtImport).toBe(!envNoWasm);
    const before = process.env.YIELDIFF_NO_WASM;
    process.env.YIELDIFF_NO_WASM = "1";
    try {
      vi.resetModules();
      const fresh = await import("../src/kernels/wasm/gemm.ts");
      expect(fresh.wasmEnabled()).toBe(false);
      expect(fresh.useWasmGemm("f32", 64, 64, 64)).toBe(false);
      expect(fresh.wasmUnavailableReason()).toMatch(/disabled/);
      delete process.env.YIELDIFF_NO_WASM;
      vi.resetModules();
      expect((await import("../src/kernels/wasm/gemm.ts")).wasmEnabled()).toBe(true);
    } finally {
      if (before === undefined) delete process.env.YIELDIFF_NO_WASM;
      else process.env.YIELDIFF_NO_WASM = before;
      vi.resetModules();
    }
  });

  it("setWasmEnabled switches useWasmGemm and the counter", () => {
    withWasm(true, () => {
      expect(wasmUnavailableReason()).toBeUndefined();
      expect(useWasmGemm("f64", 32, 32, 32)).toBe(true);
      expect(useWasmGemm("f64", 2, 2, 2)).toBe(false); // too small to pay for the copies
      expect(useWasmGemm("f64", 20000, 20000, 20000)).toBe(false); // beyond the 2 GiB arena: JS
    });
    withWasm(false, () => {
      expect(useWasmGemm("f64", 32, 32, 32)).toBe(false);
      const calls = wasmStats.calls;
      matmulKernel(rand([64, 64], "float32", 1), rand([64, 64], "float32", 2));
      expect(wasmStats.calls).toBe(calls);
    });
  });

  it("repeated calls reuse the arena: it grows to the largest problem and no further", () => {
    withWasm(true, () => {
      const a = rand([200, 150], "float64", 1), b = rand([150, 120], "float64", 2);
      matmulKernel(a, b);
      const size = wasmArenaBytes();
      expect(size).toBeGreaterThanOrEqual((200 * 150 + 150 * 120 + 200 * 120) * 8);
      for (let i = 0; i < 20; i++) {
        matmulKernel(a, b);
        matmulKernel(rand([30, 40], "float32", i), rand([40, 50], "float32", i + 1));
      }
      expect(wasmArenaBytes()).toBe(size);
    });
  });
});

// The pure-JS fallback, as it runs where WebAssembly SIMD is missing or YIELDIFF_NO_WASM=1: the
// same products against a naive double-precision loop, with the WebAssembly counter standing still.
describe("matmul with the fallback forced (setWasmEnabled(false))", () => {
  let was = true;
  beforeAll(() => {
    was = wasmEnabled();
    setWasmEnabled(false);
  });
  afterAll(() => setWasmEnabled(was));

  const naive = (a: Tensor, b: Tensor, m: number, k: number, n: number): Float64Array => {
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a.buf[i * k + q]! * b.buf[q * n + j]!;
        out[i * n + j] = s;
      }
    return out;
  };

  it("matches a naive loop on random odd shapes and never calls WebAssembly (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom<DType>("float32", "float64"), dim, dim, dim, fc.integer(), (dtype, m, k, n, seed) => {
        const a = rand([m, k], dtype, seed), b = rand([k, n], dtype, seed + 1);
        const calls = wasmStats.calls;
        const c = matmulKernel(a, b);
        expect(wasmStats.calls).toBe(calls);
        expect(c.dtype).toBe(dtype);
        const want = naive(a, b, m, k, n);
        const scale = naive(abs(a), abs(b), m, k, n);
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(c.buf[i]! - want[i]!)).toBeLessThanOrEqual((dtype === "float32" ? 1e-6 : 1e-12) * scale[i]!);
      }),
      { numRuns: 40 },
    );
  });

  it("conv2d runs in JS too", () => {
    const x = rand([2, 3, 12, 12], "float32", 5), w = rand([8, 3, 3, 3], "float32", 6);
    const calls = wasmStats.calls;
    const y = conv2dKernel(x, w, [1, 1], [1, 1]);
    expect(wasmStats.calls).toBe(calls);
    expect(y.shape).toEqual([2, 8, 12, 12]);
  });
});
