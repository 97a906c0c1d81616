// Cholesky factor L (lower, A = L Lᵀ) of the symmetric part of A. Rules after Murray (2016),
// "Differentiation of the Cholesky decomposition": with Φ(X) the lower triangle of X with its
// diagonal halved, dL = L Φ(L⁻¹ sym(dA) L⁻ᵀ), and Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹).
import { definePrimitive } from "../../../effects/primitive.ts";
import { bind } from "../../../effects/trace.ts";
import type { Value } from "../../../effects/value.ts";
import { checkCholesky, choleskyKernel } from "../../kernels/linalg/cholesky.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { tensorOf } from "../abstract.ts";
import { lowerHalfDiagonal, mm, sym } from "./matrices.ts";
import { LOWER, solveRight, transposed, triangularSolve } from "./triangular-solve.ts";

export const choleskyP = definePrimitive({
  name: "cholesky",
  abstractEval: ([a]) => tensorOf(checkCholesky(a!.shape), a!.dtype),
  impl: ([a]) => choleskyKernel(a as Tensor),
  jvp: (_a, [ta], l) => {
    if (ta === null || ta === undefined) return null;
    const left = triangularSolve(l, sym(ta), LOWER); // L⁻¹ dA
    const both = solveRight(l, left, transposed(LOWER)); // L⁻¹ dA L⁻ᵀ
    return mm(l, lowerHalfDiagonal(both));
  },
  vjp: (ct, _a, l) => {
    const phi = lowerHalfDiagonal(mm(l, ct, true, false)); // Φ(Lᵀ L̄)
    const left = triangularSolve(l, phi, transposed(LOWER)); // L⁻ᵀ Φ
    return [sym(solveRight(l, left, LOWER))]; // L⁻ᵀ Φ L⁻¹, symmetrized
  },
  batch: ([a]): Value => cholesky(a!),
});

export const cholesky = (a: Value): Value => bind(choleskyP, [a], undefined);
