// Matrix helpers of the linear-algebra rules, written with primitives (so that the rules that
// use them differentiate again): transposes of the last two axes, triangles and diagonals,
// slices of packed results, and a reciprocal that is zero where its argument is (the
// convention at repeated eigenvalues and singular values).
import { shapeOf, type Value } from "../../../effects/value.ts";
import { add, div, equal, mul, where } from "../binary.ts";
import { matmul2 } from "../matmul.ts";
import { sum } from "../reduce.ts";
import { broadcastTo, reshape, slice, transpose } from "../shape.ts";
import { triangle } from "../triangular.ts";

/** The last two axes swapped. */
export const T = (x: Value): Value => {
  const r = shapeOf(x).length;
  return transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
};

/** op(a) · op(b), op a transpose of the last two axes where asked. */
export const mm = (a: Value, b: Value, transA = false, transB = false): Value => matmul2(a, b, transA, transB);

/** (x + xᵀ) / 2. */
export const sym = (x: Value): Value => mul(add(x, T(x)), 0.5);

// Triangles and diagonals are the triangle primitive (tril/triu), not products with constant
// masks: it runs wherever its operand lives (a CPU mask times a GPU tensor would mix backends,
// and jit would capture the mask as a CPU constant), and it writes 0 outside, never 0 · ∞.
const tri = (lower: boolean, k: number) => (x: Value): Value => triangle(x, { lower, k });

/** The lower triangle, diagonal included. */
export const lower = tri(true, 0);
/** The lower triangle below the diagonal. */
export const strictLower = tri(true, -1);
/** The upper triangle, diagonal included. */
export const upper = tri(false, 0);
/** The upper triangle above the diagonal. */
export const strictUpper = tri(false, 1);
/** The diagonal as a diagonal matrix. */
export const diagonalPart = (x: Value): Value => lower(upper(x));
/** Φ of the Cholesky rules: the lower triangle with its diagonal halved. */
export const lowerHalfDiagonal = (x: Value): Value => mul(add(lower(x), strictLower(x)), 0.5);

/** The diagonal of square matrices [..., n, n] as a row [..., 1, n]. */
export const diagonalRow = (x: Value): Value => sum(diagonalPart(x), { axes: [shapeOf(x).length - 2], keepdims: true });

/** A row [..., 1, n] as the diagonal of matrices [..., n, n]. */
export const rowToDiagonal = (row: Value): Value => {
  const s = shapeOf(row);
  return diagonalPart(broadcastTo(row, [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 1]!]));
};

/** Rows r0..r1 (exclusive) of a stack of matrices. */
export const rows = (x: Value, r0: number, r1: number): Value => {
  const s = shapeOf(x);
  return slice(x, s.map((_, i) => (i === s.length - 2 ? r0 : 0)), s.map((d, i) => (i === s.length - 2 ? r1 : d)));
};

/** Columns c0..c1 (exclusive) of a stack of matrices. */
export const columns = (x: Value, c0: number, c1: number): Value => {
  const s = shapeOf(x);
  return slice(x, s.map((_, i) => (i === s.length - 1 ? c0 : 0)), s.map((d, i) => (i === s.length - 1 ? c1 : d)));
};

/** A row [..., 1, n] as a vector [..., n]. */
export const rowToVector = (row: Value): Value => {
  const s = shapeOf(row);
  return reshape(row, [...s.slice(0, -2), s[s.length - 1]!]);
};

/**
 * 1/d where d ≠ 0 and 0 where d = 0: the coupling of two equal eigenvalues (or singular
 * values) is taken as zero. Both branches stay finite, so the derivatives of this rule are
 * finite too (a plain 1/d behind a `where` would send 0 · ∞ = NaN back through the other branch).
 */
export const reciprocalOrZero = (d: Value): Value => {
  const zero = equal(d, 0);
  return where(zero, 0, div(1, where(zero, 1, d)));
};
