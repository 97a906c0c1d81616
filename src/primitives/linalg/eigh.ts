// Eigendecomposition of the symmetric part of A, packed as [V; wᵀ] ([..., n + 1, n]; see
// src/kernels/linalg/eigh.ts). Rules (as JAX's): with X = Vᵀ sym(dA) V and F_ij = 1/(w_j − w_i)
// off the diagonal, dw = diag(X) and dV = V (F ∘ X); transposed, Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ).
// Where two eigenvalues are exactly equal their F entry is taken as 0 (JAX's is ∞): gradients
// stay finite, and are right for functions that do not depend on the choice of eigenvectors
// within the repeated eigenvalue's space (see docs/linalg.md).
import { definePrimitive } from "../../../effects/primitive.ts";
import { bind } from "../../../effects/trace.ts";
import { shapeOf, type Value } from "../../../effects/value.ts";
import { checkEigh, eighKernel } from "../../kernels/linalg/eigh.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { tensorOf } from "../abstract.ts";
import { add, mul, sub } from "../binary.ts";
import { concat } from "../shape.ts";
import { T, diagonalRow, mm, reciprocalOrZero, rowToDiagonal, rows, sym } from "./matrices.ts";

export const eighP = definePrimitive({
  name: "eigh",
  abstractEval: ([a]) => tensorOf(checkEigh(a!.shape), a!.dtype),
  impl: ([a]) => eighKernel(a as Tensor),
  jvp: (_a, [ta], packed) => {
    if (ta === null || ta === undefined) return null;
    const { v, w } = eighParts(packed);
    const x = mm(mm(v, sym(ta), true, false), v);
    const dv = mm(v, mul(gaps(w), x));
    return concat([dv, diagonalRow(x)], shapeOf(packed).length - 2);
  },
  vjp: (ct, _a, packed) => {
    const { v, w, n } = eighParts(packed);
    const vBar = rows(ct, 0, n);
    const wBar = rows(ct, n, n + 1);
    const inner = add(rowToDiagonal(wBar), mul(gaps(w), mm(v, vBar, true, false)));
    return [sym(mm(mm(v, inner), v, false, true))];
  },
  batch: ([a]): Value => eigh(a!),
});

export const eigh = (a: Value): Value => bind(eighP, [a], undefined);

/** F: 1/(w_j − w_i) at (i, j), 0 where w_j = w_i (the diagonal included), from w as a row [..., 1, n]. */
const gaps = (w: Value): Value => reciprocalOrZero(sub(w, T(w)));

/** The eigenvectors V [..., n, n] and the eigenvalues as a row w [..., 1, n] of a packed eigh. */
export const eighParts = (packed: Value): { n: number; v: Value; w: Value } => {
  const s = shapeOf(packed);
  const n = s[s.length - 1]!;
  return { n, v: rows(packed, 0, n), w: rows(packed, n, n + 1) };
};
