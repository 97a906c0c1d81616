// LU factorization with partial pivoting, P A = L U, packed as the kernel packs it
// (src/kernels/linalg/lu.ts: [L\U | P | det P]). Only L\U has a derivative; P and det P are
// locally constant. With M = L⁻¹ P dA U⁻¹ (as JAX's rule): dL = L·strictLower(M),
// dU = upper(M)·U. Its transpose: with C the cotangent of L\U and
// G = strictLower(Lᵀ C) + upper(C Uᵀ), Ā = Pᵀ L⁻ᵀ G U⁻ᵀ.
import { definePrimitive } from "../../../effects/primitive.ts";
import { bind } from "../../../effects/trace.ts";
import { shapeOf, type Value } from "../../../effects/value.ts";
import { checkLu, luKernel } from "../../kernels/linalg/lu.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { tensorOf } from "../abstract.ts";
import { add } from "../binary.ts";
import { pad } from "../shape.ts";
import { columns, mm, strictLower, upper } from "./matrices.ts";
import { UNIT_LOWER, solveRight, transposed, triangularSolve, upperOfLu } from "./triangular-solve.ts";

/** Who meets a singular U in these rules: the operations whose values need no inverse. */
const UPPER = upperOfLu("linalg.det / linalg.slogdet (their derivative, which needs the inverse)");

export const luP = definePrimitive({
  name: "lu",
  abstractEval: ([a]) => tensorOf(checkLu(a!.shape), a!.dtype),
  impl: ([a]) => luKernel(a as Tensor),
  jvp: (_a, [ta], packed) => {
    if (ta === null || ta === undefined) return null;
    const { lu, p } = luParts(packed);
    const u = upper(lu);
    const m = solveRight(lu, triangularSolve(lu, mm(p, ta), UNIT_LOWER), UPPER); // L⁻¹ P dA U⁻¹
    const dLu = add(timesUnitLower(lu, strictLower(m)), mm(upper(m), u));
    return pad(dLu, shapeOf(packed).map(() => 0), shapeOf(packed));
  },
  vjp: (ct, _a, packed) => {
    const { lu, p, n } = luParts(packed);
    const u = upper(lu);
    const c = columns(ct, 0, n);
    const g = add(strictLower(timesUnitLower(lu, c, true)), upper(mm(c, u, false, true)));
    const z = solveRight(lu, triangularSolve(lu, g, transposed(UNIT_LOWER)), transposed(UPPER)); // L⁻ᵀ G U⁻ᵀ
    return [mm(p, z, true, false)];
  },
  batch: ([a]): Value => lu(a!),
});

export const lu = (a: Value): Value => bind(luP, [a], undefined);

/** The pieces of a packed LU: L\U as one matrix, P, and det P as a column [..., n, 1] (equal rows). */
export const luParts = (packed: Value): { n: number; lu: Value; p: Value; parity: Value } => {
  const n = shapeOf(packed)[shapeOf(packed).length - 2]!;
  return { n, lu: columns(packed, 0, n), p: columns(packed, n, 2 * n), parity: columns(packed, 2 * n, 2 * n + 1) };
};

/** L·x (Lᵀ·x with `transposed`) for L of L\U, its strict lower triangle and a unit diagonal: (L − I)·x + x, no identity made. */
const timesUnitLower = (lu: Value, x: Value, transposed = false): Value => add(mm(strictLower(lu), x, transposed, false), x);
