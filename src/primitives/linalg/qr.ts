// Reduced QR of tall or square matrices (m ≥ n), packed as [Q; R] ([..., m + n, n]; see
// src/kernels/linalg/qr.ts). Forward rule (as JAX's): with B = dA R⁻¹, C = Qᵀ B and
// Ω = strictLower(C) − strictLower(C)ᵀ, dQ = Q (Ω − C) + B and dR = (C − Ω) R. Its transpose:
// with M = R̄ Rᵀ − Qᵀ Q̄ and N = upper(M) + strictLower(Mᵀ), Ā = (Q̄ + Q N) R⁻ᵀ.
import { definePrimitive } from "../../../effects/primitive.ts";
import { bind } from "../../../effects/trace.ts";
import { shapeOf, type Value } from "../../../effects/value.ts";
import { checkQr, qrKernel } from "../../kernels/linalg/qr.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { tensorOf } from "../abstract.ts";
import { add, sub } from "../binary.ts";
import { concat } from "../shape.ts";
import { T, mm, rows, strictLower, upper } from "./matrices.ts";
import { UPPER, solveRight, transposed } from "./triangular-solve.ts";

export const qrP = definePrimitive({
  name: "qr",
  abstractEval: ([a]) => tensorOf(checkQr(a!.shape), a!.dtype),
  impl: ([a]) => qrKernel(a as Tensor),
  jvp: (_a, [ta], packed) => {
    if (ta === null || ta === undefined) return null;
    const { q, r } = qrParts(packed);
    const b = solveRight(r, ta, UPPER); // dA R⁻¹
    const c = mm(q, b, true, false);
    const low = strictLower(c);
    const omega = sub(low, T(low));
    const dq = add(mm(q, sub(omega, c)), b);
    const dr = mm(sub(c, omega), r);
    return concat([dq, dr], shapeOf(packed).length - 2);
  },
  vjp: (ct, _a, packed) => {
    const { q, r, m, n } = qrParts(packed);
    const qBar = rows(ct, 0, m);
    const rBar = rows(ct, m, m + n);
    const mid = sub(mm(rBar, r, false, true), mm(q, qBar, true, false));
    const nn = add(upper(mid), strictLower(T(mid)));
    return [solveRight(r, add(qBar, mm(q, nn)), transposed(UPPER))];
  },
  batch: ([a]): Value => qr(a!),
});

export const qr = (a: Value): Value => bind(qrP, [a], undefined);

/** Q and R of a packed QR. */
export const qrParts = (packed: Value): { m: number; n: number; q: Value; r: Value } => {
  const s = shapeOf(packed);
  const n = s[s.length - 1]!;
  const m = s[s.length - 2]! - n;
  return { m, n, q: rows(packed, 0, m), r: rows(packed, m, m + n) };
};
