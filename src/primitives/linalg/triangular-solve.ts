// Triangular solve X = op(A)⁻¹ B (op a transpose or not), A [..., n, n] triangular, B [..., n, k]
// with the same leading axes (the public linalg.triangularSolve broadcasts and casts first).
// The kernel reads only A's triangle, so the derivative with respect to A is masked to it:
// dX = op(A)⁻¹ (dB − op(dA) X); B̄ = op(A)⁻ᵀ X̄, Ā = −B̄ Xᵀ (or −X B̄ᵀ when transposed), masked.
import { definePrimitive } from "../../../effects/primitive.ts";
import { bind } from "../../../effects/trace.ts";
import type { Value } from "../../../effects/value.ts";
import { checkTriangularSolve, triangularSolveKernel, type TriangularSolveParams } from "../../kernels/linalg/triangular-solve.ts";
import { promote, type Tensor } from "../../tensor/tensor.ts";
import { tensorOf } from "../abstract.ts";
import { allBatched } from "../batching.ts";
import { neg } from "../unary.ts";
import { sub } from "../binary.ts";
import { T, lower, mm, strictLower, strictUpper, upper } from "./matrices.ts";

export type { TriangularSolveParams };

/** The part of A that the solve reads. */
const triangle = (x: Value, p: TriangularSolveParams): Value =>
  p.lower ? (p.unitDiagonal ? strictLower(x) : lower(x)) : p.unitDiagonal ? strictUpper(x) : upper(x);

export const triangularSolveP = definePrimitive<TriangularSolveParams>({
  name: "triangularSolve",
  abstractEval: ([a, b]) => tensorOf(checkTriangularSolve(a!.shape, b!.shape), promote(a!.dtype, b!.dtype)),
  impl: ([a, b], p) => triangularSolveKernel(a as Tensor, b as Tensor, p),
  jvp: ([a], [ta, tb], x, p) => {
    let rhs: Value | null = tb ?? null;
    if (ta !== null && ta !== undefined) {
      const d = mm(triangle(ta, p), x, p.transposeA, false);
      rhs = rhs === null ? neg(d) : sub(rhs, d);
    }
    return rhs === null ? null : triangularSolve(a!, rhs, p);
  },
  vjp: (ct, [a], x, p, wanted) => {
    const bBar = triangularSolve(a!, ct, { ...p, transposeA: !p.transposeA });
    const aBar = wanted[0] ? neg(triangle(p.transposeA ? mm(x, bBar, false, true) : mm(bBar, x, false, true), p)) : null;
    return [aBar, wanted[1] ? bBar : null];
  },
  batch: (values, batched, p, size): Value => bind(triangularSolveP, allBatched(values, batched, size), p),
});

/** op(a)⁻¹ b. */
export const triangularSolve = (a: Value, b: Value, p: TriangularSolveParams): Value => bind(triangularSolveP, [a, b], p);

/** X with X op(a) = b (a solve from the right): op(a)ᵀ Xᵀ = bᵀ. */
export const solveRight = (a: Value, b: Value, p: TriangularSolveParams): Value =>
  T(triangularSolve(a, T(b), { ...p, transposeA: !p.transposeA }));

/** Lower triangular (unit diagonal where asked), not transposed. */
export const LOWER: TriangularSolveParams = Object.freeze({ lower: true, transposeA: false, unitDiagonal: false });
export const UPPER: TriangularSolveParams = Object.freeze({ lower: false, transposeA: false, unitDiagonal: false });
export const UNIT_LOWER: TriangularSolveParams = Object.freeze({ lower: true, transposeA: false, unitDiagonal: true });
/** U of an LU factorization, for `op` (named by the error if U is singular). */
export const upperOfLu = (op: string): TriangularSolveParams => ({ ...UPPER, factorOf: op });
/** The same triangle, transposed. */
export const transposed = (p: TriangularSolveParams): TriangularSolveParams => ({ ...p, transposeA: !p.transposeA });
