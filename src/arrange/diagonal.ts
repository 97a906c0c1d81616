// Diagonals: read (NumPy's diagonal, diag of a matrix, trace, einsum's repeated indices) and
// written (diag of a vector). Along the flattened pair of axes a diagonal is every (n2 + 1)-th
// element, so reading is a gather (take) and writing a scatter-add into zeros; each is the
// other's adjoint, and both batch and run under jit as they are.
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "../errors.ts";
import { checkOperand } from "../lax.ts";
import { sum } from "../primitives/reduce.ts";
import * as S from "../primitives/shape.ts";
import { checkSize } from "../tensor/shape.ts";

/** Flat positions of diagonal k of an [n1, n2] matrix, row-major (NumPy's offset: > 0 above the main diagonal). */
const diagonalPositions = (n1: number, n2: number, k: number): Int32Array => {
  const length = Math.max(0, k >= 0 ? Math.min(n1, n2 - k) : Math.min(n1 + k, n2));
  const start = k >= 0 ? k : -k * n2;
  return Int32Array.from({ length }, (_, i) => start + i * (n2 + 1));
};

/**
 * Diagonal `k` of `x` over its distinct axes `axis1` and `axis2` (normalized), as NumPy's
 * diagonal: those two axes removed and the diagonal appended as the last axis.
 */
export const diagonal = (x: Value, axis1: number, axis2: number, k = 0): Value => {
  const xs = shapeOf(x);
  const rest = xs.map((_, i) => i).filter((i) => i !== axis1 && i !== axis2);
  const n1 = xs[axis1]!;
  const n2 = xs[axis2]!;
  const matrices = S.transpose(x, [...rest, axis1, axis2]);
  const flat = S.reshape(matrices, [...rest.map((i) => xs[i]!), n1 * n2]);
  const indices = diagonalPositions(n1, n2, k);
  return S.take(flat, { indices, indexShape: [indices.length], axis: rest.length });
};

/**
 * As NumPy's diag: a vector `x` gives the square matrix with `x` on diagonal `k` (zeros elsewhere);
 * a matrix gives its diagonal `k` (empty when `k` is past its edge).
 */
export const diag = (x: Value, k = 0): Value => {
  checkOperand("diag", x);
  if (!Number.isInteger(k)) throw new ValueError(`diag: the diagonal k must be an integer (0 the main diagonal, > 0 above, < 0 below), got ${show(k)}`);
  const xs = shapeOf(x);
  if (xs.length === 2) return diagonal(x, 0, 1, k);
  if (xs.length !== 1)
    throw new ShapeError(
      `diag: takes a vector (to place on a diagonal) or a matrix (to read one), got shape ${fmt(xs)}; ` +
        "for the diagonals of a batch of matrices use einsum (e.g. einsum(\"bii->bi\", x))",
    );
  const n = xs[0]! + Math.abs(k);
  checkSize("diag", [n, n]);
  const indices = diagonalPositions(n, n, k);
  return S.reshape(S.scatterAdd(x, { indices, indexShape: [xs[0]!], axis: 0 }, n * n), [n, n]);
};

/** As NumPy's trace: the sum of the main diagonal over the first two axes (the others remain). */
export const trace = (x: Value): Value => {
  checkOperand("trace", x);
  const xs = shapeOf(x);
  if (xs.length < 2)
    throw new ShapeError(`trace: takes a matrix (or an array of rank >= 2, traced over its first two axes), got shape ${fmt(xs)}`);
  const d = diagonal(x, 0, 1);
  return sum(d, { axes: [xs.length - 2], keepdims: false });
};
