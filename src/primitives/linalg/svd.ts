// Reduced SVD A = U diag(s) Vᵀ, packed as [U; V; sᵀ] ([..., m + n + 1, k], k = min(m, n); see
// src/kernels/linalg/svd.ts). Rules (as JAX's and Townsend's "Differentiating the singular
// value decomposition", 2016): with X = Uᵀ dA V and F_ij = 1/(s_j² − s_i²) off the diagonal,
//   ds = diag(X),
//   dU = U (F ∘ (X S + S Xᵀ)) + (I − U Uᵀ) dA V S⁻¹,
//   dV = V (F ∘ (S X + Xᵀ S)) + (I − V Vᵀ) dAᵀ U S⁻¹;
// transposed, with J = F ∘ (Uᵀ Ū) and K = F ∘ (Vᵀ V̄):
//   Ā = U (diag(s̄) + (J + Jᵀ) S + S (K + Kᵀ)) Vᵀ + (I − U Uᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I − V Vᵀ).
// F's entries at equal singular values and S⁻¹'s at zero ones are taken as 0 (JAX: ∞ and 0).
import { definePrimitive } from "../../../effects/primitive.ts";
import { bind } from "../../../effects/trace.ts";
import { shapeOf, type Value } from "../../../effects/value.ts";
import { checkSvd, svdKernel } from "../../kernels/linalg/svd.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { tensorOf } from "../abstract.ts";
import { add, mul, sub } from "../binary.ts";
import { square } from "../unary.ts";
import { concat } from "../shape.ts";
import { T, diagonalRow, mm, reciprocalOrZero, rowToDiagonal, rows } from "./matrices.ts";

export const svdP = definePrimitive({
  name: "svd",
  abstractEval: ([a]) => tensorOf(checkSvd(a!.shape), a!.dtype),
  impl: ([a]) => svdKernel(a as Tensor),
  jvp: ([a], [ta], packed) => {
    if (ta === null || ta === undefined) return null;
    const { u, v, s, m, n, k } = svdParts(packed, a!);
    const f = gaps(s);
    const x = mm(mm(u, ta, true, false), v);
    const xs = mul(x, s);
    const sx = mul(T(s), x);
    let du = mm(u, mul(f, add(xs, T(xs))));
    let dv = mm(v, mul(f, add(sx, T(sx))));
    if (m > k) du = add(du, mul(sub(mm(ta, v), mm(u, x)), reciprocalOrZero(s)));
    if (n > k) dv = add(dv, mul(sub(mm(ta, u, true, false), mm(v, x, false, true)), reciprocalOrZero(s)));
    return concat([du, dv, diagonalRow(x)], shapeOf(packed).length - 2);
  },
  vjp: (ct, [a], packed) => {
    const { u, v, s, m, n, k } = svdParts(packed, a!);
    const uBar = rows(ct, 0, m);
    const vBar = rows(ct, m, m + n);
    const sBar = rows(ct, m + n, m + n + 1);
    const f = gaps(s);
    const j = mul(f, mm(u, uBar, true, false));
    const kk = mul(f, mm(v, vBar, true, false));
    const z = add(add(rowToDiagonal(sBar), mul(add(j, T(j)), s)), mul(T(s), add(kk, T(kk))));
    let aBar = mm(mm(u, z), v, false, true);
    if (m > k) aBar = add(aBar, mm(mul(sub(uBar, mm(u, mm(u, uBar, true, false))), reciprocalOrZero(s)), v, false, true));
    if (n > k) aBar = add(aBar, mm(u, mul(sub(vBar, mm(v, mm(v, vBar, true, false))), reciprocalOrZero(s)), false, true));
    return [aBar];
  },
  batch: ([a]): Value => svd(a!),
});

export const svd = (a: Value): Value => bind(svdP, [a], undefined);

/** F: 1/(s_j² − s_i²) at (i, j), 0 where they are equal, from s as a row [..., 1, k]. */
const gaps = (s: Value): Value => {
  const s2 = square(s);
  return reciprocalOrZero(sub(s2, T(s2)));
};

/** U [..., m, k], V [..., n, k] and s as a row [..., 1, k] of the packed SVD of `a`. */
export const svdParts = (packed: Value, a: Value): { m: number; n: number; k: number; u: Value; v: Value; s: Value } => {
  const as = shapeOf(a);
  const m = as[as.length - 2]!;
  const n = as[as.length - 1]!;
  return { m, n, k: Math.min(m, n), u: rows(packed, 0, m), v: rows(packed, m, m + n), s: rows(packed, m + n, m + n + 1) };
};
