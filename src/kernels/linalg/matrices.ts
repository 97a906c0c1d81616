// What the linear-algebra kernels share: the shape checks (functions of shapes alone, so that
// abstract evaluation gives eager mode's errors) and the walk over leading batch axes. Kernels
// compute in float64 whatever the dtype and round once when they write a float32 result.
import { ShapeError, fmt } from "../../errors.ts";
import { sizeOf, type Shape } from "../../tensor/shape.ts";
import { Tensor, allocate, type DType } from "../../tensor/tensor.ts";

/** The leading (batch) axes of a stack of matrices. */
export const batchOf = (shape: Shape): number[] => shape.slice(0, -2);

/** Rows and columns of a stack of matrices `[..., m, n]` (rank ≥ 2, neither size 0). */
export const checkMatrix = (op: string, shape: Shape, what = "operand"): [number, number] => {
  if (shape.length < 2)
    throw new ShapeError(
      `${op}: the ${what} has shape ${fmt(shape)}; it takes a matrix [m, n] or a stack of them [..., m, n] ` +
        "(rank 2 or more) — reshape a vector to [n, 1] or [1, n]",
    );
  const m = shape[shape.length - 2]!;
  const n = shape[shape.length - 1]!;
  if (m === 0 || n === 0)
    throw new ShapeError(`${op}: the ${what} has shape ${fmt(shape)}, an empty matrix; give matrices of at least one row and one column`);
  return [m, n];
};

/** The size n of a stack of square matrices `[..., n, n]`. */
export const checkSquare = (op: string, shape: Shape, what = "operand"): number => {
  const [m, n] = checkMatrix(op, shape, what);
  if (m !== n)
    throw new ShapeError(
      `${op}: the ${what} has shape ${fmt(shape)}, whose last two axes (${m} × ${n}) are not square; it takes square ` +
        "matrices [..., n, n]" + (op.endsWith("cholesky") || op.endsWith("eigh") ? "" : " — for a non-square system use linalg.qr or linalg.svd (least squares)"),
    );
  return n;
};

/** The number of matrices in a stack of matrices of shape `shape`. */
export const countOf = (shape: Shape): number => sizeOf(batchOf(shape));

/** Matrix `b` of a stack (rows × cols from `offset` b·rows·cols), copied into float64. */
export const readMatrix = (t: Tensor, b: number, rows: number, cols: number): Float64Array => {
  const size = rows * cols;
  return Float64Array.from(t.buf.subarray(b * size, (b + 1) * size));
};

/** A result tensor of `shape` and `dtype`, filled per matrix by the caller. */
export const output = (shape: Shape, dtype: DType): Tensor => new Tensor(allocate(dtype, sizeOf(shape)), shape);

/** Writes `values` into the stack's buffer at matrix `b` (each of `size` elements). */
export const writeAt = (t: Tensor, b: number, size: number, values: ArrayLike<number>): void => {
  t.buf.set(values, b * size);
};

/**
 * A power of two near the largest |entry| of `m` (1 for a zero matrix): factorizations divide by
 * it first and multiply back after, so squares of tiny or huge entries neither underflow nor
 * overflow, and the scaling itself rounds nothing.
 */
export const powerOfTwoScale = (m: Float64Array): number => {
  let big = 0;
  for (let i = 0; i < m.length; i++) big = Math.max(big, Math.abs(m[i]!));
  if (big === 0 || !Number.isFinite(big)) return 1;
  return 2 ** Math.round(Math.log2(big));
};

/** Divides every entry by `scale` in place. */
export const scaleDown = (m: Float64Array, scale: number): Float64Array => {
  if (scale !== 1) for (let i = 0; i < m.length; i++) m[i] = m[i]! / scale;
  return m;
};
