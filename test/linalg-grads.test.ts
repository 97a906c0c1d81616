// linalg derivatives against central finite differences at float64 (test/check-grads.ts): first
// and second order, forward and reverse, on random well-conditioned matrices drawn by
// fast-check. inv, solve and det are checked exactly as jax-js's issue #84 asked
// (grad(sum(inv(A)))); eigh, svd and qr through functions that do not depend on the signs of
// eigenvectors and singular vectors, as JAX's tests do. Also: derivatives at repeated
// eigenvalues, and over batch axes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Tensor, grad, linalg, matmul, mul, run, slice, square, sum, tensor, transpose, type Effect, type Value } from "../src/index.ts";
import { checkGrads, numericGrad, type Program } from "./check-grads.ts";
import { expectSame } from "./expect-same.ts";
import { matrixArb, separatedSvdArb, separatedSymmetricArb, spdArb, wellConditionedArb } from "./linalg-helpers.ts";

const RUNS = { numRuns: 4 };
const both = { order: 2, modes: ["fwd", "rev"], rtol: 1e-5, atol: 1e-8 } as const;

/** Σ w ∘ x over all elements, w fixed: a scalar that weighs every output element differently. */
function* weighted(x: Value, seed: number): Generator<Effect, Value, unknown> {
  const s = (x as Tensor).shape ?? [];
  const n = s.reduce((a, b) => a * b, 1);
  const w = tensor(Array.from({ length: n }, (_, i) => Math.sin(seed + 1.3 * i)), { shape: s });
  return (yield* sum(yield* mul(x, w))) as Value;
}

describe("linalg derivatives against finite differences (first and second order, forward and reverse)", () => {
  it("cholesky", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => spdArb(n)), (a) => {
        checkGrads(function* cholesky(x: Value) {
          return yield* linalg.cholesky(x);
        }, [a], both);
      }),
      RUNS,
    );
  });

  it("triangularSolve, lower and upper, transposed or not, in both operands", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(wellConditionedArb(n, [], "float64", false), matrixArb(n, 2), fc.boolean(), fc.boolean())), ([a, b, lower, transposeA]) => {
        checkGrads(function* triangularSolve(x: Value, y: Value) {
          return yield* linalg.triangularSolve(x, y, { lower, transposeA });
        }, [a, b], both);
      }),
      RUNS,
    );
  });

  it("solve, in both operands (rows shuffled: LU pivots)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(wellConditionedArb(n), matrixArb(n, 2))), ([a, b]) => {
        checkGrads(function* solve(x: Value, y: Value) {
          return yield* linalg.solve(x, y);
        }, [a, b], both);
      }),
      RUNS,
    );
  });

  it("inv, and grad(sum(inv(A))) element by element (jax-js issue #84)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => wellConditionedArb(n)), (a) => {
        checkGrads(function* inv(x: Value) {
          return yield* linalg.inv(x);
        }, [a], both);
        function* sumInv(x: Value) {
          return yield* sum(yield* linalg.inv(x));
        }
        expectSame(run(grad(sumInv), a), numericGrad(sumInv as Program, [a]), 1e-8);
      }),
      RUNS,
    );
  });

  it("det and slogdet, and grad(det) = det · A⁻ᵀ", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => wellConditionedArb(n)), (a) => {
        checkGrads(function* det(x: Value) {
          return yield* linalg.det(x);
        }, [a], { ...both, numberKinds: false });
        checkGrads(function* slogdet(x: Value) {
          return yield* linalg.slogdet(x);
        }, [a], { ...both, numberKinds: false });
        function* det(x: Value) {
          return yield* linalg.det(x);
        }
        expectSame(run(grad(det), a), numericGrad(det as Program, [a]), 1e-8);
        const d = (run(det, a) as Tensor).item();
        const invT = run(function* () {
          return yield* linalg.inv(a);
        }) as Tensor;
        const n = a.shape[0]!;
        const want = tensor(Array.from({ length: n * n }, (_, k) => d * invT.buf[(k % n) * n + Math.floor(k / n)]!), { shape: [n, n] });
        expectSame(run(grad(det), a), want, 1e-11);
      }),
      RUNS,
    );
  });

  it("qr: q and r themselves (Householder's signs are locally constant), tall, square and wide", () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([m, n]) => matrixArb(m, n).map((x) => x)), (a) => {
        const [m, n] = a.shape as [number, number];
        // full rank with room to spare: add a multiple of the leading identity block
        const shifted = tensor(Array.from(a.buf, (v, k) => v + (Math.floor(k / n) === k % n ? 2 : 0)), { shape: [m, n] });
        checkGrads(function* qr(x: Value) {
          return yield* linalg.qr(x);
        }, [shifted], both);
      }),
      RUNS,
    );
  });

  it("eigh: weighted eigenvalues and squared eigenvector entries (sign-invariant), distinct eigenvalues", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => separatedSymmetricArb(n)), (a) => {
        checkGrads(function* eighLoss(x: Value) {
          const [w, v] = yield* linalg.eigh(x);
          return [yield* weighted(w, 1), yield* weighted(yield* square(v), 2)];
        }, [a], { ...both, numberKinds: false });
      }),
      RUNS,
    );
  });

  it("svd: weighted singular values and squared singular-vector entries (sign-invariant), tall, square and wide", () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([m, n]) => separatedSvdArb(m, n)), (a) => {
        checkGrads(function* svdLoss(x: Value) {
          const [u, s, vt] = yield* linalg.svd(x);
          return [yield* weighted(s, 1), yield* weighted(yield* square(u), 2), yield* weighted(yield* square(vt), 3)];
        }, [a], { ...both, numberKinds: false });
      }),
      RUNS,
    );
  });

  it("float32: first-order derivatives of solve, cholesky and eigh against finite differences at float32's tolerance", () => {
    const a = tensor(fc.sample(wellConditionedArb(3), { numRuns: 1, seed: 11 })[0]!.toArray() as number[][], { dtype: "float32" });
    const spd = tensor(fc.sample(spdArb(3), { numRuns: 1, seed: 12 })[0]!.toArray() as number[][], { dtype: "float32" });
    const sep = tensor(fc.sample(separatedSymmetricArb(3), { numRuns: 1, seed: 13 })[0]!.toArray() as number[][], { dtype: "float32" });
    const f32 = { order: 1, modes: ["fwd", "rev"], rtol: 2e-2, atol: 1e-3 } as const;
    checkGrads(function* solve32(x: Value) {
      return yield* linalg.solve(x, tensor([1, -2, 3], { dtype: "float32" }));
    }, [a], f32);
    checkGrads(function* cholesky32(x: Value) {
      return yield* linalg.cholesky(x);
    }, [spd], f32);
    checkGrads(function* eigh32(x: Value) {
      const [w] = yield* linalg.eigh(x);
      return w;
    }, [sep], f32);
  });

  it("over batch axes: each matrix's derivative is its own", () => {
    const a = fc.sample(wellConditionedArb(3, [2]), { numRuns: 1, seed: 5 })[0]!;
    const spd = fc.sample(spdArb(3, [2]), { numRuns: 1, seed: 6 })[0]!;
    checkGrads(function* invBatch(x: Value) {
      return yield* linalg.inv(x);
    }, [a], both);
    checkGrads(function* detBatch(x: Value) {
      return yield* linalg.det(x);
    }, [a], both);
    checkGrads(function* choleskyBatch(x: Value) {
      return yield* linalg.cholesky(x);
    }, [spd], both);
    checkGrads(function* eighBatch(x: Value) {
      const [w] = yield* linalg.eigh(x);
      return w;
    }, [spd], both);
    checkGrads(function* svdBatch(x: Value) {
      const [, s] = yield* linalg.svd(x);
      return s;
    }, [spd], both);
  });
});

describe("linalg derivatives at repeated eigenvalues and singular values", () => {
  it("eigh at the identity: the gradient of Σ w is the identity, finite, and so is its second derivative", () => {
    function* trace(x: Value) {
      const [w] = yield* linalg.eigh(x);
      return yield* sum(w);
    }
    const eye3 = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect((run(grad(trace), eye3) as Tensor).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const h = run(grad(function* (x: Value) {
      const g = (yield* grad(trace)(x)) as Value;
      return yield* sum(yield* mul(g, g));
    }), eye3) as Tensor;
    expect(Array.from(h.buf).every(Number.isFinite)).toBe(true);
  });

  it("eigh at a repeated eigenvalue: a function of the other eigenvector (its projector) gets its derivative", () => {
    // The eigenvalue 3 is simple, so v₃ v₃ᵀ is smooth even where 1 is repeated.
    const c = tensor([[1, 2, 0], [-1, 0.5, 3], [2, 1, -2]]);
    function* projector(x: Value) {
      const [, v] = yield* linalg.eigh(x);
      const v3 = yield* slice(v, [0, 2], [3, 3]);
      return yield* sum(yield* mul(c, yield* matmul(v3, yield* transpose(v3))));
    }
    for (const a of [tensor([[1, 0, 0], [0, 1, 0], [0, 0, 3]]), tensor([[2, 1, 0], [1, 2, 0], [0, 0, 1]])]) {
      const g = run(grad(projector), a) as Tensor;
      expectSame(g, numericGrad(projector as Program, [a]), 1e-7);
    }
  });

  it("svd of a matrix with a zero singular value: the gradient of Σ s is U Vᵀ (a subgradient, as JAX's), finite", () => {
    function* nuclear(x: Value) {
      const [, s] = yield* linalg.svd(x);
      return yield* sum(s);
    }
    const g = run(grad(nuclear), tensor([[1, 0], [0, 0], [0, 0]])) as Tensor;
    expect(Array.from(g.buf).every(Number.isFinite)).toBe(true);
    expectSame(g, tensor([[1, 0], [0, 1], [0, 0]]));
  });
});
