// Matrix helpers of the linear-algebra rules, written with primitives (so that the rules that
// use them differentiate again): transposes of the last two axes, triangles and diagonals as
// products with constant masks, slices of packed results, and a reciprocal that is zero where
// its argument is (the convention at repeated eigenvalues and singular values).
import { dtypeOf, shapeOf, type Value } from "../../../effects/value.ts";
import { Tensor, type DType } from "../../tensor/tensor.ts";
import { add, div, equal, mul, where } from "../binary.ts";
import { matmul2 } from "../matmul.ts";
import { sum } from "../reduce.ts";
import { reshape, slice, transpose } from "../shape.ts";

/** The last two axes swapped. */
export const T = (x: Value): Value => {
  const r = shapeOf(x).length;
  return transpose(x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
};

/** op(a) · op(b), op a transpose of the last two axes where asked. */
export const mm = (a: Value, b: Value, transA = false, transB = false): Value => matmul2(a, b, transA, transB);

/** (x + xᵀ) / 2. */
export const sym = (x: Value): Value => mul(add(x, T(x)), 0.5);

type MaskKind = "lower" | "strictLower" | "upper" | "strictUpper" | "eye" | "lowerHalfDiagonal";

const MASK_ENTRY: Record<MaskKind, (i: number, j: number) => number> = {
  lower: (i, j) => (j <= i ? 1 : 0),
  strictLower: (i, j) => (j < i ? 1 : 0),
  upper: (i, j) => (j >= i ? 1 : 0),
  strictUpper: (i, j) => (j > i ? 1 : 0),
  eye: (i, j) => (j === i ? 1 : 0),
  lowerHalfDiagonal: (i, j) => (j < i ? 1 : j === i ? 0.5 : 0),
};

const masks = new Map<string, Tensor>();

/** A constant rows × cols mask (cached): which entries a triangle or diagonal keeps (½ for the halved diagonal). */
const maskOf = (kind: MaskKind, rows: number, cols: number, dtype: DType): Tensor => {
  const key = `${kind} ${rows} ${cols} ${dtype}`;
  let m = masks.get(key);
  if (m === undefined) {
    const buf = dtype === "float32" ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) buf[i * cols + j] = MASK_ENTRY[kind](i, j);
    m = new Tensor(buf, [rows, cols]);
    masks.set(key, m);
  }
  return m;
};

const masked = (kind: MaskKind) => (x: Value): Value => {
  const s = shapeOf(x);
  return mul(x, maskOf(kind, s[s.length - 2]!, s[s.length - 1]!, dtypeOf(x)));
};

/** The lower triangle, diagonal included. */
export const lower = masked("lower");
/** The lower triangle below the diagonal. */
export const strictLower = masked("strictLower");
/** The upper triangle, diagonal included. */
export const upper = masked("upper");
/** The upper triangle above the diagonal. */
export const strictUpper = masked("strictUpper");
/** The diagonal as a diagonal matrix. */
export const diagonalPart = masked("eye");
/** Φ of the Cholesky rules: the lower triangle with its diagonal halved. */
export const lowerHalfDiagonal = masked("lowerHalfDiagonal");

/** The identity of size n in `like`'s dtype. */
export const identityLike = (n: number, like: Value): Tensor => maskOf("eye", n, n, dtypeOf(like));

/** The diagonal of square matrices [..., n, n] as a row [..., 1, n]. */
export const diagonalRow = (x: Value): Value => sum(diagonalPart(x), { axes: [shapeOf(x).length - 2], keepdims: true });

/** A row [..., 1, n] as the diagonal of matrices [..., n, n]. */
export const rowToDiagonal = (row: Value): Value => {
  const n = shapeOf(row)[shapeOf(row).length - 1]!;
  return mul(row, identityLike(n, row));
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
