// The lower or upper triangle of the matrices in the last two axes (the rest zero): tril, triu.
import { ShapeError, fmt } from "../errors.ts";
import { sizeOf } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";

/** Which triangle: `lower` keeps the elements with j − i ≤ k (tril), otherwise j − i ≥ k (triu). */
export interface TriangleParams {
  readonly lower: boolean;
  /** The diagonal that bounds the triangle: 0 the main one, > 0 above it, < 0 below. */
  readonly k: number;
}

/** The triangle's check on shapes alone (the kernel's, and abstract evaluation's): matrices in the last two axes. */
export function checkTriangle(shape: readonly number[], p: TriangleParams): void {
  if (shape.length < 2)
    throw new ShapeError(
      `${p.lower ? "tril" : "triu"}: takes matrices (rank >= 2, the last two axes), got shape ${fmt(shape)}; ` +
        "reshape a vector to [1, n] or [n, 1] first",
    );
  if (!Number.isInteger(p.k)) throw new ShapeError(`${p.lower ? "tril" : "triu"}: the diagonal k must be an integer, got ${p.k}`);
}

export function triangleKernel(x: Tensor, p: TriangleParams): Tensor {
  checkTriangle(x.shape, p);
  const rows = x.shape[x.shape.length - 2]!;
  const cols = x.shape[x.shape.length - 1]!;
  const out = allocate(x.dtype, sizeOf(x.shape)); // zeroed
  const src = x.buf;
  const matrices = rows * cols === 0 ? 0 : src.length / (rows * cols);
  for (let m = 0, base = 0; m < matrices; m++, base += rows * cols) {
    for (let i = 0; i < rows; i++) {
      // row i keeps the columns [from, to)
      const from = p.lower ? 0 : Math.min(cols, Math.max(0, i + p.k));
      const to = p.lower ? Math.min(cols, Math.max(0, i + p.k + 1)) : cols;
      const row = base + i * cols;
      for (let j = from; j < to; j++) out[row + j] = src[row + j]!;
    }
  }
  return new Tensor(out, x.shape);
}
