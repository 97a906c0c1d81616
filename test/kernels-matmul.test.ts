import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { matmulKernel, checkMatmul } from "../src/kernels/matmul.ts";
import { Tensor, allocate, type DType } from "../src/tensor/tensor.ts";
import { Random } from "../src/tensor/random.ts";
import { ShapeError } from "../src/errors.ts";
import { transposeKernel } from "../src/kernels/shape-ops.ts";
import { setWasmEnabled } from "../src/kernels/wasm/gemm.ts";
import { randn } from "../src/tensor/create.ts";

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

const rand = (shape: number[], dtype: DType, seed: number): Tensor => {
  const r = new Random(seed);
  const buf = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < buf.length; i++) buf[i] = r.uniform() * 2 - 1;
  return new Tensor(buf, shape);
};

const t = (rows: number[][], dtype: DType = "float64"): Tensor => {
  const buf = allocate(dtype, rows.length * rows[0]!.length);
  buf.set(rows.flat());
  return new Tensor(buf, [rows.length, rows[0]!.length]);
};

/** Naive reference: broadcast batch by index arithmetic, triple loop per matrix, in double. */
const naive = (a: Tensor, b: Tensor): { shape: number[]; data: number[] } => {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const ba = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  const r = Math.max(ba.length, bb.length);
  const pa = [...Array(r - ba.length).fill(1), ...ba], pb = [...Array(r - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const data: number[] = [];
  for (let t = 0; t < sizeOf(batch); t++) {
    let rem = t, ao = 0, bo = 0, sa = 1, sb = 1;
    for (let ax = r - 1; ax >= 0; ax--) {
      const idx = rem % batch[ax]!;
      rem = Math.floor(rem / batch[ax]!);
      ao += (pa[ax] === 1 ? 0 : idx) * sa;
      bo += (pb[ax] === 1 ? 0 : idx) * sb;
      sa *= pa[ax]!;
      sb *= pb[ax]!;
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.buf[ao * m * k + i * k + p]! * b.buf[bo * k * n + p * n + j]!;
        data.push(s);
      }
  }
  return { shape: [...batch, m, n], data };
};

const expectClose = (got: Tensor, want: { shape: number[]; data: number[] }, rel: number): void => {
  expect(got.shape).toEqual(want.shape);
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i]!;
    expect(Math.abs(got.buf[i]! - w)).toBeLessThanOrEqual(rel * (1 + Math.abs(w)));
  }
};

describe("matmulKernel", () => {
  it("hand-computed 2x2", () => {
    const c = matmulKernel(t([[1, 2], [3, 4]]), t([[5, 6], [7, 8]]));
    expect(c.shape).toEqual([2, 2]);
    expect(c.toArray()).toEqual([[19, 22], [43, 50]]);
    expect(c.dtype).toBe("float64");
  });

  it("identity leaves a matrix unchanged, on either side", () => {
    const a = rand([5, 7], "float64", 1);
    const eye = (n: number): Tensor => t(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j))));
    expect(Array.from(matmulKernel(a, eye(7)).buf)).toEqual(Array.from(a.buf));
    expect(Array.from(matmulKernel(eye(5), a).buf)).toEqual(Array.from(a.buf));
  });

  it("broadcasts batch dims: [2,1,3,4] x [5,4,2] -> [2,5,3,2], both dtypes", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const a = rand([2, 1, 3, 4], dtype, 2), b = rand([5, 4, 2], dtype, 3);
      const c = matmulKernel(a, b);
      expect(c.dtype).toBe(dtype);
      expectClose(c, naive(a, b), dtype === "float64" ? 1e-12 : 1e-6);
    }
  });

  it("mixed dtypes give float64 and do not touch the inputs", () => {
    const a = rand([3, 4], "float32", 4), b = rand([4, 2], "float64", 5);
    const a0 = Array.from(a.buf), b0 = Array.from(b.buf);
    const c = matmulKernel(a, b);
    expect(c.dtype).toBe("float64");
    expectClose(c, naive(a, b), 1e-12);
    expect(Array.from(a.buf)).toEqual(a0);
    expect(Array.from(b.buf)).toEqual(b0);
  });

  it("k larger than one block, odd m, k tails of 1-3", () => {
    for (const [m, k, n] of [[3, 300, 5], [1, 129, 2], [7, 6, 9], [2, 7, 1], [5, 1, 4]] as const) {
      const a = rand([m, k], "float64", m * 1000 + k), b = rand([k, n], "float64", n);
      expectClose(matmulKernel(a, b), naive(a, b), 1e-12);
    }
  });

  it("empty dims give zeros of the right shape", () => {
    expect(matmulKernel(rand([2, 0], "float64", 1), rand([0, 3], "float64", 2)).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(matmulKernel(rand([0, 2, 3], "float32", 1), rand([3, 4], "float32", 2)).shape).toEqual([0, 2, 4]);
  });

  it("matches a naive triple loop on random broadcast shapes (property)", () => {
    const dim = fc.integer({ min: 1, max: 3 });
    const arb = fc.record({
      batch: fc.array(fc.tuple(dim, fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
      dropA: fc.integer({ min: 0, max: 3 }),
      dropB: fc.integer({ min: 0, max: 3 }),
      m: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 9 }),
      n: fc.integer({ min: 1, max: 6 }),
      da: fc.constantFrom<DType>("float32", "float64"),
      db: fc.constantFrom<DType>("float32", "float64"),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(arb, ({ batch, dropA, dropB, m, k, n, da, db, seed }) => {
        // mode 0: both have d; 1: a has 1; 2: b has 1. Leading axes may be dropped from either.
        const ba = batch.map(([d, mode]) => (mode === 1 ? 1 : d)).slice(Math.min(dropA, batch.length));
        const bb = batch.map(([d, mode]) => (mode === 2 ? 1 : d)).slice(Math.min(dropB, batch.length));
        const a = rand([...ba, m, k], da, seed), b = rand([...bb, k, n], db, seed + 1);
        const c = matmulKernel(a, b);
        const f64 = da === "float64" || db === "float64";
        expect(c.dtype).toBe(f64 ? "float64" : "float32");
        expect(checkMatmul(a, b)).toEqual(c.shape);
        expectClose(c, naive(a, b), f64 ? 1e-12 : 1e-6);
      }),
      { numRuns: 150 },
    );
  });

  it("names both shapes when inner dims differ", () => {
    const f = (): Tensor => matmulKernel(rand([2, 3], "float64", 1), rand([4, 5], "float64", 2));
    expect(f).toThrow(ShapeError);
    expect(f).toThrow("matmul: shapes [2, 3] and [4, 5] do not align: a has 3 columns but b has 4 rows; transpose or reshape an operand");
  });

  it("rejects batch dims that do not broadcast, naming both shapes", () => {
    const f = (): Tensor => matmulKernel(rand([2, 3, 4], "float64", 1), rand([3, 4, 5], "float64", 2));
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/\[2, 3, 4\] and \[3, 4, 5\].*do not broadcast/);
  });

  it("rejects rank < 2", () => {
    const v = new Tensor(new Float64Array(3), [3]);
    expect(() => matmulKernel(v, rand([3, 2], "float64", 1))).toThrow(ShapeError);
    expect(() => matmulKernel(rand([3, 2], "float64", 1), v)).toThrow(/rank >= 2/);
  });
});

describe("matmulKernel with transposed operands", () => {
  const swapLast = (t: Tensor): Tensor => transposeKernel(t, [...t.shape.keys()].map((i, _, a) => (i === a.length - 2 ? a.length - 1 : i === a.length - 1 ? a.length - 2 : i)));

  it("row vectors, k = 1, n = 1, odd sizes, batch dims: both paths match a naive loop (property)", () => {
    const size = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 }), fc.constantFrom(5, 7, 9, 17, 33, 65), fc.integer({ min: 1, max: 80 }));
    const arb = fc.record({
      batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      m: size, k: size, n: size, tA: fc.boolean(), tB: fc.boolean(), wasm: fc.boolean(),
      dtype: fc.constantFrom<DType>("float32", "float64"), seed: fc.integer(),
    });
    fc.assert(
      fc.property(arb, ({ batch, m, k, n, tA, tB, wasm, dtype, seed }) => {
        const a = rand([...batch, m, k], dtype, seed), b = rand([k, n], dtype, seed + 1);
        setWasmEnabled(wasm);
        try {
          const got = matmulKernel(tA ? swapLast(a) : a, tB ? swapLast(b) : b, tA, tB);
          expectClose(got, naive(a, b), dtype === "float64" ? 1e-12 : 1e-5);
        } finally {
          setWasmEnabled(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("reads op(A) op(B) without copies, on both paths, at both dtypes", () => {
    for (const wasm of [true, false]) {
      setWasmEnabled(wasm);
      try {
        for (const dtype of ["float64", "float32"] as const) {
          for (const [sa, sb] of [[[3, 5], [5, 4]], [[2, 3, 17], [17, 9]], [[1, 33, 8], [4, 8, 7]]] as const) {
            const a = randn([...sa], { seed: 1, dtype });
            const b = randn([...sb], { seed: 2, dtype });
            const want = matmulKernel(a, b);
            for (const [tA, tB] of [[true, false], [false, true], [true, true]] as const) {
              const got = matmulKernel(tA ? swapLast(a) : a, tB ? swapLast(b) : b, tA, tB);
              expect(got.shape).toEqual(want.shape);
              const tol = dtype === "float32" ? 1e-5 : 1e-12;
              got.data.forEach((v, i) => expect(Math.abs(v - want.data[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want.data[i]!))));
            }
          }
        }
      } finally {
        setWasmEnabled(true);
      }
    }
  });
});
