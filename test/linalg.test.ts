// linalg: values against the mathematics (A = L Lᵀ, Q R = A with Q orthonormal, A V = V diag(w),
// U diag(s) Vᵀ = A, A⁻¹ A = I, det against cofactor expansion), known values, batch axes,
// float32, vmap against a loop of single calls, jit against eager, and bad input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Tensor, ShapeError, add, ValueError, grad, jit, linalg, run, sum, tensor, vmap, type Effect, type Value } from "../src/index.ts";
import { expectSame } from "./expect-same.ts";
import { caught, perform } from "./perform.ts";
import {
  detJs,
  identityJs,
  matmulJs,
  matricesOf,
  matrixArb,
  maxAbsJs,
  maxDiff,
  rowsOf,
  spdArb,
  transposeJs,
  vectorsOf,
  wellConditionedArb,
} from "./linalg-helpers.ts";

const RUNS = { numRuns: 25 };
const sizes = fc.integer({ min: 1, max: 5 });
const batches = fc.constantFrom<number[]>([], [2], [2, 3]);
const rectangular = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }));

const diagonalJs = (d: number[]): number[][] => d.map((v, i) => d.map((_, j) => (i === j ? v : 0)));
const expectOrthonormalColumns = (q: number[][], tol: number): void => {
  const qtq = matmulJs(transposeJs(q), q);
  expect(maxDiff(qtq, identityJs(qtq.length))).toBeLessThan(tol);
};
const isLower = (a: number[][]): boolean => a.every((row, i) => row.every((v, j) => j <= i || v === 0));
const isUpper = (a: number[][]): boolean => a.every((row, i) => row.every((v, j) => j >= i || v === 0));

describe("linalg values", () => {
  it("cholesky: A = L Lᵀ with L lower triangular with a positive diagonal, over batch axes", () => {
    fc.assert(
      fc.property(sizes.chain((n) => batches.chain((b) => spdArb(n, b))), (a) => {
        const l = perform(() => linalg.cholesky(a)) as Tensor;
        expect(l.shape).toEqual(a.shape);
        matricesOf(l).forEach((lm, b) => {
          expect(isLower(lm)).toBe(true);
          lm.forEach((row, i) => expect(row[i]!).toBeGreaterThan(0));
          const am = matricesOf(a)[b]!;
          expect(maxDiff(matmulJs(lm, transposeJs(lm)), am)).toBeLessThan(1e-12 * maxAbsJs(am));
        });
      }),
      RUNS,
    );
  });

  it("cholesky of a known matrix", () => {
    const l = perform(() => linalg.cholesky(tensor([[4, 12, -16], [12, 37, -43], [-16, -43, 98]]))) as Tensor;
    expect(l.toArray()).toEqual([[2, 0, 0], [6, 1, 0], [-8, 5, 3]]);
  });

  it("triangularSolve: op(A) x = b for the lower and upper triangle, transposed or not; the other triangle is not read", () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.integer(), (n, k, lower, transposeA, seed) => {
        const [a, b] = fc.sample(fc.tuple(wellConditionedArb(n, [], "float64", false), matrixArb(n, k)), { numRuns: 1, seed })[0]!;
        const x = perform(() => linalg.triangularSolve(a, b, { lower, transposeA })) as Tensor;
        const am = rowsOf(a);
        const tri = am.map((row, i) => row.map((v, j) => ((lower ? j <= i : j >= i) ? v : 0)));
        const op = transposeA ? transposeJs(tri) : tri;
        expect(maxDiff(matmulJs(op, rowsOf(x)), rowsOf(b))).toBeLessThan(1e-12 * (1 + maxAbsJs(rowsOf(b))) * n);
      }),
      RUNS,
    );
  });

  it("triangularSolve: a vector b, and b's batch axes broadcast with a's", () => {
    const a = tensor([[2, 0], [1, 4]]);
    expect((perform(() => linalg.triangularSolve(a, tensor([2, 9]))) as Tensor).toArray()).toEqual([1, 2]);
    expect((perform(() => linalg.triangularSolve(a, tensor([2, 8]), { lower: false })) as Tensor).toArray()).toEqual([1, 2]);
    const bs = tensor([[[2], [9]], [[4], [2]]]); // [2, 2, 1]
    expect((perform(() => linalg.triangularSolve(a, bs)) as Tensor).toArray()).toEqual([[[1], [2]], [[2], [0]]]);
  });

  it("solve and inv: A x = b and A⁻¹ A = I, over batch axes (LU pivots: the rows are shuffled)", () => {
    fc.assert(
      fc.property(
        sizes.chain((n) => batches.chain((b) => fc.tuple(wellConditionedArb(n, b), matrixArb(n, 2, b)))),
        ([a, b]) => {
          const x = perform(() => linalg.solve(a, b)) as Tensor;
          const ai = perform(() => linalg.inv(a)) as Tensor;
          expect(x.shape).toEqual(b.shape);
          expect(ai.shape).toEqual(a.shape);
          matricesOf(a).forEach((am, i) => {
            const n = am.length;
            expect(maxDiff(matmulJs(am, matricesOf(x)[i]!), matricesOf(b)[i]!)).toBeLessThan(1e-12 * n * n);
            expect(maxDiff(matmulJs(matricesOf(ai)[i]!, am), identityJs(n))).toBeLessThan(1e-12 * n * n);
          });
        },
      ),
      RUNS,
    );
  });

  it("solve: a vector b gives a vector; a shared a with a batch of b broadcasts", () => {
    const a = tensor([[0, 2], [3, 1]]); // needs a row exchange
    expectSame(perform(() => linalg.solve(a, tensor([4, 5]))), tensor([1, 2]), 1e-15);
    const x = perform(() => linalg.solve(a, tensor([[[4], [5]], [[2], [3]]]))) as Tensor;
    expectSame(x, tensor([[[1], [2]], [[2 / 3], [1]]]), 1e-15);
    const inv = perform(() => linalg.inv(tensor([[4, 7], [2, 6]]))) as Tensor;
    expectSame(inv, tensor([[0.6, -0.7], [-0.2, 0.4]]), 1e-15);
  });

  it("det and slogdet against cofactor expansion, over batch axes", () => {
    fc.assert(
      fc.property(sizes.chain((n) => batches.chain((b) => matrixArb(n, n, b))), (a) => {
        const d = perform(() => linalg.det(a)) as Tensor;
        const [sign, logAbs] = perform(() => linalg.slogdet(a)) as [Tensor, Tensor];
        expect(d.shape).toEqual(a.shape.slice(0, -2));
        expect(sign.shape).toEqual(d.shape);
        expect(logAbs.shape).toEqual(d.shape);
        matricesOf(a).forEach((am, i) => {
          const want = detJs(am);
          expect(Math.abs(d.buf[i]! - want)).toBeLessThan(1e-13 * am.length ** 2);
          if (Math.abs(want) > 1e-8) {
            expect(sign.buf[i]).toBe(Math.sign(want));
            expect(Math.abs(logAbs.buf[i]! - Math.log(Math.abs(want)))).toBeLessThan(1e-10);
          }
        });
      }),
      RUNS,
    );
  });

  it("det and slogdet of known matrices: a permutation's sign, a negative determinant, a singular matrix", () => {
    const det = (rows: number[][]) => (perform(() => linalg.det(tensor(rows))) as Tensor).item();
    expect(det([[0, 1], [1, 0]])).toBe(-1);
    expect(det([[0, 1, 0], [0, 0, 1], [1, 0, 0]])).toBe(1);
    expect(det([[1, 2], [3, 4]])).toBeCloseTo(-2, 14);
    expect(det([[6, 1, 1], [4, -2, 5], [2, 8, 7]])).toBeCloseTo(-306, 12);
    expect(Math.abs(det([[1, 2], [2, 4]]))).toBe(0);
    const [sign, logAbs] = perform(() => linalg.slogdet(tensor([[6, 1, 1], [4, -2, 5], [2, 8, 7]]))) as [Tensor, Tensor];
    expect(sign.item()).toBe(-1);
    expect(logAbs.item()).toBeCloseTo(Math.log(306), 13);
    const [s0, l0] = perform(() => linalg.slogdet(tensor([[1, 2], [2, 4]]))) as [Tensor, Tensor];
    expect([s0.item(), l0.item()]).toEqual([0, -Infinity]);
    // a product that overflows as det but not as slogdet
    const big = tensor(Array.from({ length: 40 }, (_, i) => Array.from({ length: 40 }, (_, j) => (i === j ? 1e10 : 0))));
    expect((perform(() => linalg.det(big)) as Tensor).item()).toBe(Infinity);
    expect((perform(() => linalg.slogdet(big)) as Tensor[])[1]!.item()).toBeCloseTo(400 * Math.log(10), 10);
  });

  it("qr: Q R = A, Q with orthonormal columns, R upper triangular, reduced shapes, tall, square and wide", () => {
    fc.assert(
      fc.property(rectangular.chain(([m, n]) => batches.chain((b) => matrixArb(m, n, b))), (a) => {
        const [m, n] = a.shape.slice(-2) as [number, number];
        const k = Math.min(m, n);
        const [q, r] = perform(() => linalg.qr(a)) as [Tensor, Tensor];
        expect(q.shape).toEqual([...a.shape.slice(0, -2), m, k]);
        expect(r.shape).toEqual([...a.shape.slice(0, -2), k, n]);
        matricesOf(a).forEach((am, i) => {
          const qm = matricesOf(q)[i]!;
          const rm = matricesOf(r)[i]!;
          expectOrthonormalColumns(qm, 1e-13 * m);
          expect(isUpper(rm)).toBe(true);
          expect(maxDiff(matmulJs(qm, rm), am)).toBeLessThan(1e-13 * m * n);
        });
      }),
      RUNS,
    );
  });

  it("eigh: A V = V diag(w), V orthonormal, w ascending, over batch axes", () => {
    fc.assert(
      fc.property(sizes.chain((n) => batches.chain((b) => matrixArb(n, n, b))), (x) => {
        const [w, v] = perform(() => linalg.eigh(x)) as [Tensor, Tensor];
        expect(w.shape).toEqual(x.shape.slice(0, -1));
        expect(v.shape).toEqual(x.shape);
        matricesOf(x).forEach((xm, i) => {
          const sym = xm.map((row, r) => row.map((val, c) => (val + xm[c]![r]!) / 2)); // eigh reads (a + aᵀ)/2
          const vm = matricesOf(v)[i]!;
          const wv = vectorsOf(w)[i]!;
          for (let j = 1; j < wv.length; j++) expect(wv[j]!).toBeGreaterThanOrEqual(wv[j - 1]!);
          expectOrthonormalColumns(vm, 1e-13 * wv.length);
          expect(maxDiff(matmulJs(sym, vm), matmulJs(vm, diagonalJs(wv)))).toBeLessThan(1e-13 * wv.length);
        });
      }),
      RUNS,
    );
  });

  it("eigh of known matrices (the identity: repeated eigenvalues)", () => {
    const [w, v] = perform(() => linalg.eigh(tensor([[2, 1], [1, 2]]))) as [Tensor, Tensor];
    expectSame(w, tensor([1, 3]), 1e-15);
    const vm = rowsOf(v);
    expect(Math.abs(vm[0]![0]!)).toBeCloseTo(Math.SQRT1_2, 15);
    expect(vm[0]![0]! * vm[1]![0]!).toBeCloseTo(-0.5, 15); // (1, −1)/√2
    expect(vm[0]![1]! * vm[1]![1]!).toBeCloseTo(0.5, 15); // (1, 1)/√2
    const [wi, vi] = perform(() => linalg.eigh(tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))) as [Tensor, Tensor];
    expect(wi.toArray()).toEqual([1, 1, 1]);
    expect(vi.toArray()).toEqual(identityJs(3));
  });

  it("svd: U diag(s) Vᵀ = A, U and V orthonormal, s descending and non-negative, tall, square and wide", () => {
    fc.assert(
      fc.property(rectangular.chain(([m, n]) => batches.chain((b) => matrixArb(m, n, b))), (a) => {
        const [m, n] = a.shape.slice(-2) as [number, number];
        const k = Math.min(m, n);
        const [u, s, vt] = perform(() => linalg.svd(a)) as [Tensor, Tensor, Tensor];
        expect(u.shape).toEqual([...a.shape.slice(0, -2), m, k]);
        expect(s.shape).toEqual([...a.shape.slice(0, -2), k]);
        expect(vt.shape).toEqual([...a.shape.slice(0, -2), k, n]);
        matricesOf(a).forEach((am, i) => {
          const sv = vectorsOf(s)[i]!;
          for (let j = 0; j < k; j++) {
            expect(sv[j]!).toBeGreaterThanOrEqual(0);
            if (j > 0) expect(sv[j]!).toBeLessThanOrEqual(sv[j - 1]!);
          }
          expectOrthonormalColumns(matricesOf(u)[i]!, 1e-13 * m);
          expectOrthonormalColumns(transposeJs(matricesOf(vt)[i]!), 1e-13 * n);
          expect(maxDiff(matmulJs(matmulJs(matricesOf(u)[i]!, diagonalJs(sv)), matricesOf(vt)[i]!), am)).toBeLessThan(1e-13 * m * n);
        });
      }),
      RUNS,
    );
  });

  it("svd keeps small singular values accurate and completes U for rank-deficient matrices", () => {
    // diag(1, 1e-9, 0) rotated: a Gram-matrix method would lose 1e-9 (its square is below rounding)
    const c = Math.cos(0.3);
    const sn = Math.sin(0.3);
    const rot = [[c, -sn, 0], [sn, c, 0], [0, 0, 1]];
    const a = matmulJs(matmulJs(rot, diagonalJs([1, 1e-9, 0])), transposeJs(rot));
    const [u, s] = perform(() => linalg.svd(tensor(a))) as [Tensor, Tensor];
    const sv = vectorsOf(s)[0]!;
    expect(sv[0]!).toBeCloseTo(1, 15);
    expect(Math.abs(sv[1]! - 1e-9) / 1e-9).toBeLessThan(1e-6);
    expect(sv[2]!).toBeLessThan(1e-16);
    expectOrthonormalColumns(rowsOf(u), 1e-12);
    const [uz, sz] = perform(() => linalg.svd(tensor([[0, 0], [0, 0], [0, 0]]))) as [Tensor, Tensor];
    expect(sz.toArray()).toEqual([0, 0]);
    expectOrthonormalColumns(rowsOf(uz), 1e-15);
  });

  it("float32 in, float32 out, close to the float64 results", () => {
    const a64 = fc.sample(wellConditionedArb(4), { numRuns: 1, seed: 7 })[0]!;
    const a32 = tensor(a64.toArray() as number[][], { dtype: "float32" });
    const spd64 = fc.sample(spdArb(4), { numRuns: 1, seed: 8 })[0]!;
    const spd32 = tensor(spd64.toArray() as number[][], { dtype: "float32" });
    const ops: [string, (a: Value) => unknown, boolean][] = [
      ["cholesky", (a) => linalg.cholesky(a), true],
      ["inv", (a) => linalg.inv(a), false],
      ["det", (a) => linalg.det(a), false],
      ["solve", (a) => linalg.solve(a, tensor([1, 2, 3, 4], { dtype: a === a32 ? "float32" : "float64" })), false],
      ["triangularSolve", (a) => linalg.triangularSolve(a, a), true],
      ["eigh", (a) => linalg.eigh(a), true],
    ];
    for (const [name, op, spd] of ops) {
      const got = perform(() => op(spd ? spd32 : a32) as never);
      const want = perform(() => op(spd ? spd64 : a64) as never);
      const flat = (v: unknown): Tensor[] => (Array.isArray(v) ? v.flatMap(flat) : [v as Tensor]);
      flat(got).forEach((g, i) => {
        expect(g.dtype, name).toBe("float32");
        const w = flat(want)[i]!;
        expectSame(tensor(Array.from(g.buf), { shape: g.shape }), w, 1e-5);
      });
    }
    const [q, r] = perform(() => linalg.qr(a32)) as Tensor[];
    const [u, s, vt] = perform(() => linalg.svd(a32)) as Tensor[];
    expect([q, r, u, s, vt].map((t) => t!.dtype)).toEqual(Array(5).fill("float32"));
  });

  it("mixed dtypes compute in float64", () => {
    const x = perform(() => linalg.solve(tensor([[2, 0], [0, 4]], { dtype: "float32" }), tensor([1, 1]))) as Tensor;
    expect(x.dtype).toBe("float64");
    expect(x.toArray()).toEqual([0.5, 0.25]);
  });
});

/** The operations as programs of one matrix (square ones well conditioned), for vmap and jit. */
const programs: [string, (a: Value) => Generator<Effect, unknown, unknown>][] = [
  ["cholesky", function* (a) {
    return yield* linalg.cholesky(a);
  }],
  ["triangularSolve", function* (a) {
    return yield* linalg.triangularSolve(a, tensor([[1, 2], [3, 4], [5, 6]]), { lower: false, transposeA: true });
  }],
  ["solve", function* (a) {
    return yield* linalg.solve(a, tensor([1, 2, 3]));
  }],
  ["inv", function* (a) {
    return yield* linalg.inv(a);
  }],
  ["det", function* (a) {
    return yield* linalg.det(a);
  }],
  ["slogdet", function* (a) {
    return yield* linalg.slogdet(a);
  }],
  ["qr", function* (a) {
    return yield* linalg.qr(a);
  }],
  ["eigh", function* (a) {
    return yield* linalg.eigh(a);
  }],
  ["svd", function* (a) {
    return yield* linalg.svd(a);
  }],
];

describe("linalg under vmap and jit", () => {
  const stackOf = (xs: Tensor[]): Tensor => {
    const n = xs[0]!.size;
    const buf = new Float64Array(xs.length * n);
    xs.forEach((x, i) => buf.set(x.buf, i * n));
    return new Tensor(buf, [xs.length, ...xs[0]!.shape]);
  };
  const stackResults = (rs: unknown[]): unknown => (Array.isArray(rs[0]) ? (rs[0] as unknown[]).map((_, i) => stackResults(rs.map((r) => (r as unknown[])[i]))) : stackOf(rs as Tensor[]));

  for (const [name, f] of programs) {
    it(`${name}: vmap agrees with a loop of single calls; jit agrees with eager, and so does jit of grad`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 }).chain((size) => fc.array(spdArb(3), { minLength: size, maxLength: size })), (as) => {
          const each = as.map((a) => run(f, a));
          expectSame(run(vmap(f), stackOf(as)), stackResults(each), 1e-12);
          expectSame(run(jit(f), as[0]!), each[0], 1e-12);
          function* loss(a: Value): Generator<Effect, Value, unknown> {
            const out = (yield* f(a)) as Value | Value[];
            let total: Value = 0;
            for (const o of Array.isArray(out) ? out : [out]) total = yield* add(total, yield* sum(o));
            return total;
          }
          expectSame(run(jit(grad(loss)), as[0]!), run(grad(loss), as[0]!), 1e-10);
        }),
        { numRuns: 6 },
      );
    });
  }

  it("vmap over a batch of shared and batched operands of solve", () => {
    const as = fc.sample(wellConditionedArb(3, [4]), { numRuns: 1, seed: 3 })[0]!;
    const b = tensor([1, 2, 3]);
    const got = run(vmap(function* (a: Value) {
      return yield* linalg.solve(a, b);
    }), as) as Tensor;
    expectSame(got, perform(() => linalg.solve(as, b)), 1e-13);
  });
});

describe("linalg bad input", () => {
  const expectError = (f: () => unknown, cls: typeof ShapeError | typeof ValueError, ...words: string[]) => {
    const e = caught(f);
    expect(e, e.message).toBeInstanceOf(cls);
    for (const w of words) expect(e.message).toContain(w);
  };
  const rect = tensor([[1, 2, 3], [4, 5, 6]]);

  it("non-square matrices to cholesky, inv, det, slogdet, eigh, solve: a ShapeError naming the operation and the shape", () => {
    expectError(() => perform(() => linalg.cholesky(rect)), ShapeError, "linalg.cholesky", "[2, 3]", "square");
    expectError(() => perform(() => linalg.inv(rect)), ShapeError, "linalg.inv", "[2, 3]", "square");
    expectError(() => perform(() => linalg.det(rect)), ShapeError, "linalg.det", "[2, 3]");
    expectError(() => perform(() => linalg.slogdet(rect)), ShapeError, "linalg.slogdet", "[2, 3]");
    expectError(() => perform(() => linalg.eigh(rect)), ShapeError, "linalg.eigh", "[2, 3]");
    expectError(() => perform(() => linalg.solve(rect, tensor([1, 2]))), ShapeError, "linalg.solve", "[2, 3]");
  });

  it("a matrix that is not positive definite to cholesky: a ValueError naming linalg.cholesky and the fix", () => {
    expectError(() => perform(() => linalg.cholesky(tensor([[1, 2], [2, 1]]))), ValueError, "linalg.cholesky", "not positive definite", "εI");
    expectError(() => perform(() => linalg.cholesky(tensor([[[4, 0], [0, 1]], [[1, 0], [0, -1]]]))), ValueError, "batch index 1");
    // the same under jit and vmap (the kernel runs there too)
    const f = function* (a: Value) {
      return yield* linalg.cholesky(a);
    };
    expectError(() => run(jit(f), tensor([[0, 0], [0, 0]])), ValueError, "linalg.cholesky");
    expectError(() => run(vmap(f), tensor([[[1, 0], [0, 1]], [[-1, 0], [0, 1]]])), ValueError, "linalg.cholesky");
  });

  it("right-hand sides that do not fit: a ShapeError with both shapes", () => {
    const a = tensor([[1, 0], [0, 1]]);
    expectError(() => perform(() => linalg.solve(a, tensor([1, 2, 3]))), ShapeError, "linalg.solve", "[2, 2]", "[3]");
    expectError(() => perform(() => linalg.solve(a, tensor([[1], [2], [3]]))), ShapeError, "linalg.solve", "[3, 1]");
    expectError(() => perform(() => linalg.triangularSolve(a, tensor([[1, 2, 3]]))), ShapeError, "linalg.triangularSolve", "[1, 3]");
    expectError(() => perform(() => linalg.solve(tensor([[[1, 0], [0, 1]], [[1, 0], [0, 1]]]), tensor([[[1], [2]], [[1], [2]], [[1], [2]]]))), ShapeError, "linalg.solve", "batch");
    expectError(() => perform(() => linalg.solve(a, 3)), ShapeError, "linalg.solve", "scalar");
  });

  it("singular matrices to solve and inv: a ValueError (NumPy's LinAlgError); det gives 0", () => {
    const singular = tensor([[1, 2], [2, 4]]);
    expectError(() => perform(() => linalg.solve(singular, tensor([1, 2]))), ValueError, "singular");
    expectError(() => perform(() => linalg.inv(singular)), ValueError, "singular", "LinAlgError");
    expectError(() => perform(() => linalg.triangularSolve(tensor([[1, 0], [1, 0]]), tensor([1, 2]))), ValueError, "linalg.triangularSolve", "zero on its diagonal");
    expect(Math.abs((perform(() => linalg.det(singular)) as Tensor).item())).toBe(0);
    expectError(() => run(grad(function* (a: Value) {
      return yield* linalg.det(a);
    }), singular), ValueError, "singular");
  });

  it("wrong rank, numbers and empty matrices: a ShapeError", () => {
    expectError(() => perform(() => linalg.inv(tensor([1, 2]))), ShapeError, "linalg.inv", "[2]", "rank 2");
    expectError(() => perform(() => linalg.det(3)), ShapeError, "linalg.det", "[]");
    expectError(() => perform(() => linalg.svd(tensor([1, 2, 3]))), ShapeError, "linalg.svd");
    expectError(() => perform(() => linalg.qr(new Tensor(new Float64Array(0), [0, 3]))), ShapeError, "linalg.qr", "empty");
    expectError(() => perform(() => linalg.triangularSolve(tensor([1, 2]), tensor([1, 2]))), ShapeError, "linalg.triangularSolve", "matrix a");
  });

  it("NaN in gives NaN out, not a hang or a wrong number (cholesky: a ValueError)", () => {
    const bad = tensor([[1, NaN, 0], [NaN, 2, 0], [0, 0, 3]]);
    const hasNaN = (v: unknown): boolean => (Array.isArray(v) ? v.some(hasNaN) : Array.from((v as Tensor).buf).some(Number.isNaN));
    for (const op of [linalg.solve(bad, tensor([1, 2, 3])), linalg.inv(bad), linalg.det(bad), linalg.qr(bad), linalg.eigh(bad), linalg.svd(bad)])
      expect(hasNaN(perform(() => op)), op.name).toBe(true);
    expectError(() => perform(() => linalg.cholesky(bad)), ValueError, "linalg.cholesky", "not positive definite");
  });

  it("unknown options and non-tensors: errors naming the operation", () => {
    const a = tensor([[1, 0], [0, 1]]);
    expectError(() => perform(() => linalg.triangularSolve(a, a, { lower: true, upper: true } as never)), ValueError, "linalg.triangularSolve", "upper");
    expectError(() => perform(() => linalg.triangularSolve(a, a, { lower: "yes" } as never)), ValueError, "lower");
    const e = caught(() => perform(() => linalg.inv([[1, 0], [0, 1]] as never)));
    expect(e.message).toContain("linalg.inv");
  });
});
