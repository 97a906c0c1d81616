// The linalg namespace: `import { linalg } from "yieldiff"`, each operation used with `yield*`.
// Six primitives carry kernels and derivative rules (cholesky, triangularSolve, lu, qr, eigh,
// svd, in src/primitives/linalg/); solve, inv, det and slogdet are written here with them, so
// their derivatives of every order come from those rules. Factorizations with several results
// are one packed tensor per primitive, split here with slices (see src/kernels/linalg/).
import { CompositeOp } from "../effects/operation.ts";
import type { Effect } from "../effects/effect.ts";
import { dtypeOf, shapeOf, type Value } from "../effects/value.ts";
import { ShapeError, fmt } from "./errors.ts";
import { checkOperand } from "./lax.ts";
import type { ArrayOut } from "./ops.ts";
import { checkOptions } from "./options.ts";
import { checkMatrix, checkSquare } from "./kernels/linalg/matrices.ts";
import { broadcastShapes, sameShape } from "./tensor/shape.ts";
import { promote } from "./tensor/tensor.ts";
import { abs, log, sign } from "./primitives/unary.ts";
import { add, mul } from "./primitives/binary.ts";
import { cast } from "./primitives/cast.ts";
import { sum } from "./primitives/reduce.ts";
import { broadcastTo, concat, reshape, slice } from "./primitives/shape.ts";
import { T, columns, diagonalRow, mm, rowToVector, rows } from "./primitives/linalg/matrices.ts";
import { cholesky as choleskyOf } from "./primitives/linalg/cholesky.ts";
import { lu, luParts } from "./primitives/linalg/lu.ts";
import { qr as qrOf, qrParts } from "./primitives/linalg/qr.ts";
import { eigh as eighOf, eighParts } from "./primitives/linalg/eigh.ts";
import { svd as svdOf, svdParts } from "./primitives/linalg/svd.ts";
import { UNIT_LOWER, triangularSolve as solveTriangular, upperOfLu } from "./primitives/linalg/triangular-solve.ts";

/** Options of `linalg.triangularSolve`. */
export interface TriangularSolveOptions {
  /** `a` is lower triangular (default true); else upper. Only that triangle of `a` is read. */
  readonly lower?: boolean;
  /** Solve aᵀ x = b instead of a x = b (default false). */
  readonly transposeA?: boolean;
}

const composite = <R>(name: string, run: () => unknown): Effect<R> => new CompositeOp<R>(name, run as () => R);

/** The operand checked: a number, Tensor or traced value that is a stack of matrices. */
const matrixOperand = (op: string, a: unknown, what = "operand"): Value => {
  const v = checkOperand(op, a, what);
  checkMatrix(op, shapeOf(v), what);
  return v;
};

/** Two operands in their common dtype (float32 with float64 computes in float64, as everywhere). */
const commonDType = (a: Value, b: Value): [Value, Value] => {
  const d = promote(dtypeOf(a), dtypeOf(b));
  return [dtypeOf(a) === d ? a : cast(a, d), dtypeOf(b) === d ? b : cast(b, d)];
};

/**
 * The right-hand side of a system a x = b as a stack of matrices with a's rows, and the batch
 * axes a and b broadcast to: `b` of rank 1 is one vector (NumPy 2's rule), else `[..., n, k]`.
 */
const rightHandSide = (op: string, as: readonly number[], b: Value): { b: Value; batch: number[]; vector: boolean } => {
  const n = as[as.length - 1]!;
  const bs = shapeOf(b);
  if (bs.length === 0)
    throw new ShapeError(`${op}: the right-hand side b is a scalar; give a vector [${n}] or a matrix [..., ${n}, k]`);
  if (bs.length === 1) {
    if (bs[0] !== n)
      throw new ShapeError(`${op}: a of shape ${fmt(as)} and b of shape ${fmt(bs)} do not fit: a vector b must have ${n} elements (a's rows)`);
    return { b: reshape(b, [n, 1]), batch: as.slice(0, -2), vector: true };
  }
  if (bs[bs.length - 2] !== n)
    throw new ShapeError(
      `${op}: a of shape ${fmt(as)} and b of shape ${fmt(bs)} do not fit: b must be [..., ${n}, k] (${n} rows, as a), or a ` +
        `vector [${n}]; its rows are ${bs[bs.length - 2]}`,
    );
  return { b, batch: broadcastShapes(`${op} (the batch axes of a and b)`, as.slice(0, -2), bs.slice(0, -2)), vector: false };
};

/** `x` with leading axes `batch` (its last two axes kept). */
const withBatch = (x: Value, batch: readonly number[]): Value => {
  const s = shapeOf(x);
  const target = [...batch, ...s.slice(-2)];
  return sameShape(s, target) ? x : broadcastTo(x, target);
};

/** The product of a stack of vectors [..., n] along the last axis, pairwise (differentiable, exact at zeros). */
const productOfLast = (v: Value): Value => {
  let x = v;
  let len = shapeOf(v)[shapeOf(v).length - 1]!;
  const part = (y: Value, from: number, to: number): Value => {
    const s = shapeOf(y);
    return slice(y, s.map((_, i) => (i === s.length - 1 ? from : 0)), s.map((d, i) => (i === s.length - 1 ? to : d)));
  };
  while (len > 1) {
    const half = Math.floor(len / 2);
    const paired = mul(part(x, 0, half), part(x, half, 2 * half));
    x = len % 2 === 0 ? paired : concat([paired, part(x, 2 * half, len)], shapeOf(x).length - 1);
    len = Math.ceil(len / 2);
  }
  return reshape(x, shapeOf(x).slice(0, -1));
};

/** The LU factorization's pieces as the determinant needs them: diag(U) [..., n] and det P [...]. */
const luDiagonal = (a: Value): { diagonal: Value; parity: Value } => {
  const parts = luParts(lu(a));
  const batch = shapeOf(a).slice(0, -2);
  return { diagonal: rowToVector(diagonalRow(parts.lu)), parity: reshape(rows(parts.parity, 0, 1), batch) };
};

/** x with op(a)·x = b for triangular a. */
const triangularSolveValue = (a0: unknown, b0: unknown, options: TriangularSolveOptions | undefined): Value => {
  const op = "linalg.triangularSolve";
  checkOptions(op, options, { lower: "boolean", transposeA: "boolean" });
  const a1 = matrixOperand(op, a0, "matrix a");
  checkSquare(op, shapeOf(a1), "matrix a");
  const [a, b1] = commonDType(a1, checkOperand(op, b0, "right-hand side b"));
  const rhs = rightHandSide(op, shapeOf(a), b1);
  const x = solveTriangular(withBatch(a, rhs.batch), withBatch(rhs.b, rhs.batch), {
    lower: options?.lower ?? true,
    transposeA: options?.transposeA ?? false,
    unitDiagonal: false,
  });
  return rhs.vector ? reshape(x, shapeOf(x).slice(0, -1)) : x;
};

/** x with a·x = b, through P a = L U. */
const solveValue = (a0: unknown, b0: unknown, op = "linalg.solve"): Value => {
  const a1 = matrixOperand(op, a0, "matrix a");
  checkSquare(op, shapeOf(a1), "matrix a");
  const [a, b1] = commonDType(a1, checkOperand(op, b0, "right-hand side b"));
  const rhs = rightHandSide(op, shapeOf(a), b1);
  const { lu: factors, p } = luParts(lu(a));
  const luB = withBatch(factors, rhs.batch);
  const permuted = withBatch(mm(p, rhs.b), rhs.batch); // P b
  const x = solveTriangular(luB, solveTriangular(luB, permuted, UNIT_LOWER), upperOfLu(op));
  return rhs.vector ? reshape(x, shapeOf(x).slice(0, -1)) : x;
};

/**
 * Cholesky factor `l` (lower triangular, positive diagonal) of a symmetric positive-definite
 * matrix: `a = l lᵀ`. `a` is `[..., n, n]` (leading axes are a batch); its symmetric part
 * (a + aᵀ)/2 is factored, so derivatives are symmetric. A matrix that is not positive definite
 * is a ValueError.
 */
export const cholesky = <A extends Value>(a: A): Effect<ArrayOut<A>> =>
  composite("linalg.cholesky", () => {
    const v = matrixOperand("linalg.cholesky", a);
    checkSquare("linalg.cholesky", shapeOf(v));
    return choleskyOf(v);
  });

/**
 * x with `a x = b` (or `aᵀ x = b` with `transposeA`) for triangular `a` `[..., n, n]`, of which
 * only the lower (default) or upper triangle is read. `b` is `[..., n, k]` (batch axes broadcast
 * with a's) or a vector `[n]`. A zero on a's diagonal (a singular system) is a ValueError.
 */
export const triangularSolve = <A extends Value, B extends Value>(a: A, b: B, options?: TriangularSolveOptions): Effect<ArrayOut<A, B>> =>
  composite("linalg.triangularSolve", () => triangularSolveValue(a, b, options));

/**
 * x with `a x = b` for square `a` `[..., n, n]`, by LU factorization with partial pivoting. `b`
 * is `[..., n, k]` (batch axes broadcast with a's) or a vector `[n]` (NumPy 2's rule). An
 * exactly singular `a` is a ValueError (NumPy's LinAlgError); a nearly singular one gives large
 * values, as in NumPy.
 */
export const solve = <A extends Value, B extends Value>(a: A, b: B): Effect<ArrayOut<A, B>> =>
  composite("linalg.solve", () => solveValue(a, b));

/** The inverse of square matrices `[..., n, n]` (as `solve(a, I)`); an exactly singular matrix is a ValueError. */
export const inv = <A extends Value>(a: A): Effect<ArrayOut<A>> =>
  composite("linalg.inv", () => {
    const v = matrixOperand("linalg.inv", a);
    checkSquare("linalg.inv", shapeOf(v));
    const { lu: factors, p } = luParts(lu(v)); // a⁻¹ = U⁻¹ L⁻¹ P
    return solveTriangular(factors, solveTriangular(factors, p, UNIT_LOWER), upperOfLu("linalg.inv"));
  });

/**
 * The determinant of square matrices `[..., n, n]`, one per matrix (a 0-d tensor for one
 * matrix), from the LU factorization: ±∏ diag(U). It is 0 for a singular matrix; its
 * derivative there (which goes through the inverse) is a ValueError.
 */
export const det = <A extends Value>(a: A): Effect<ArrayOut<A>> =>
  composite("linalg.det", () => {
    const v = matrixOperand("linalg.det", a);
    checkSquare("linalg.det", shapeOf(v));
    const { diagonal, parity } = luDiagonal(v);
    return add(mul(parity, productOfLast(diagonal)), 0); // + 0: a zero determinant is +0, as NumPy's
  });

/**
 * `[sign, logAbsDet]` of square matrices `[..., n, n]`: det = sign · exp(logAbsDet), without
 * overflow or underflow for large matrices. A singular matrix gives sign 0 and logAbsDet −∞
 * (as NumPy). `sign` has derivative zero.
 */
export const slogdet = <A extends Value>(a: A): Effect<[ArrayOut<A>, ArrayOut<A>]> =>
  composite("linalg.slogdet", () => {
    const v = matrixOperand("linalg.slogdet", a);
    checkSquare("linalg.slogdet", shapeOf(v));
    const { diagonal, parity } = luDiagonal(v);
    const last = shapeOf(diagonal).length - 1;
    return [add(mul(parity, productOfLast(sign(diagonal))), 0), sum(log(abs(diagonal)), { axes: [last], keepdims: false })];
  });

/**
 * Reduced QR factorization `[q, r]` of `a` `[..., m, n]` with k = min(m, n): `q` `[..., m, k]`
 * has orthonormal columns, `r` `[..., k, n]` is upper triangular, `a = q r` (Householder, as
 * LAPACK: r's diagonal may be negative).
 */
export const qr = <A extends Value>(a: A): Effect<[ArrayOut<A>, ArrayOut<A>]> =>
  composite("linalg.qr", () => {
    const v = matrixOperand("linalg.qr", a);
    const [m, n] = checkMatrix("linalg.qr", shapeOf(v));
    if (m >= n) {
      const { q, r } = qrParts(qrOf(v));
      return [q, r];
    }
    // Wide: a = [a₁ a₂] with a₁ square; a₁ = q r₁ gives r = [r₁ qᵀa₂] (and derivatives through both).
    const { q, r } = qrParts(qrOf(columns(v, 0, m)));
    return [q, concat([r, mm(q, columns(v, m, n), true, false)], shapeOf(v).length - 1)];
  });

/**
 * Eigenvalues and eigenvectors `[w, v]` of symmetric matrices `a` `[..., n, n]` (its symmetric
 * part (a + aᵀ)/2 is used): `w` `[..., n]` ascending, `v` `[..., n, n]` with the eigenvectors as
 * orthonormal columns, `a v = v diag(w)`. Each eigenvector's sign is arbitrary; see
 * docs/linalg.md for derivatives at repeated eigenvalues.
 */
export const eigh = <A extends Value>(a: A): Effect<[ArrayOut<A>, ArrayOut<A>]> =>
  composite("linalg.eigh", () => {
    const v = matrixOperand("linalg.eigh", a);
    checkSquare("linalg.eigh", shapeOf(v));
    const parts = eighParts(eighOf(v));
    return [rowToVector(parts.w), parts.v];
  });

/**
 * Reduced singular value decomposition `[u, s, vt]` of `a` `[..., m, n]` with k = min(m, n):
 * `u` `[..., m, k]` and `vtᵀ` have orthonormal columns, `s` `[..., k]` is descending and
 * non-negative, `a = u diag(s) vt`. Signs of singular vectors are arbitrary (in pairs); see
 * docs/linalg.md for derivatives at repeated or zero singular values.
 */
export const svd = <A extends Value>(a: A): Effect<[ArrayOut<A>, ArrayOut<A>, ArrayOut<A>]> =>
  composite("linalg.svd", () => {
    const v = matrixOperand("linalg.svd", a);
    const packed = svdOf(v);
    const parts = svdParts(packed, v);
    return [parts.u, rowToVector(parts.s), T(parts.v)];
  });

