// Sorting along an axis, as the flat positions of the chosen elements ("picks") in output
// order, so that one gather gives the sorted values and the matching scatter their adjoint.
// Orders are total and stable: NaN sorts after +∞ (as NumPy), and equal values keep their
// index order, so every result is reproducible and the derivative goes to one element.
import { ShapeError, ValueError, fmt } from "../errors.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
import { aroundAxis } from "./scan.ts";

/** Ascending, NaN last; ties by position. */
const ascending = (X: ArrayLike<number>) => (i: number, j: number): number => {
  const a = X[i]!;
  const b = X[j]!;
  if (a < b) return -1;
  if (a > b) return 1;
  const an = a !== a;
  const bn = b !== b;
  if (an !== bn) return an ? 1 : -1;
  return i - j;
};

/** Descending, NaN first (the largest); ties by position. */
const descending = (X: ArrayLike<number>) => (i: number, j: number): number => {
  const a = X[i]!;
  const b = X[j]!;
  if (a > b) return -1;
  if (a < b) return 1;
  const an = a !== a;
  const bn = b !== b;
  if (an !== bn) return an ? -1 : 1;
  return i - j;
};

/**
 * The first `k` positions of each line along `axis` in the given order, as flat indices into x,
 * laid out as x's shape with the axis cut to k.
 */
function picksAlong(x: Tensor, axis: number, k: number, order: "ascending" | "descending"): Int32Array {
  const [outer, n, inner] = aroundAxis(x.shape, axis);
  const out = new Int32Array(outer * k * inner);
  const line = new Int32Array(n);
  const cmp = (order === "ascending" ? ascending : descending)(x.buf);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      for (let r = 0; r < n; r++) line[r] = base + r * inner;
      line.sort(cmp);
      const dst = o * k * inner + j;
      for (let r = 0; r < k; r++) out[dst + r * inner] = line[r]!;
    }
  return out;
}

/** Flat indices of x's elements in ascending order along `axis` (stable, NaN last). */
export const sortPicks = (x: Tensor, axis: number): Int32Array => picksAlong(x, axis, x.shape[axis]!, "ascending");

/** Flat indices of the k largest elements of each line along the last axis, largest first (NaN counts as the largest). */
export const topKPicks = (x: Tensor, k: number): Int32Array => picksAlong(x, x.shape.length - 1, k, "descending");

/** Flat indices into a tensor of `shape` turned into positions along `axis`, as a float64 tensor of `outShape`. */
export function positionsAlong(flat: Int32Array, shape: readonly number[], axis: number, outShape: readonly number[]): Tensor {
  const [, n, inner] = aroundAxis(shape, axis);
  const out = allocate("float64", flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = Math.floor(flat[i]! / inner) % n;
  return new Tensor(out, outShape);
}

/** topK's shape rule: rank ≥ 1 and 0 ≤ k ≤ the last axis. */
export function topKShape(shape: readonly number[], k: number): number[] {
  if (shape.length === 0) throw new ShapeError("topK: the operand is 0-d (a scalar) and has no last axis to choose from; reshape it to [1] first");
  const n = shape[shape.length - 1]!;
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new ValueError(
      `topK: k = ${k} does not fit the last axis of shape ${fmt(shape)}, which holds ${n} element${n === 1 ? "" : "s"}; ` +
        `pass an integer k in [0, ${n}]`,
    );
  return [...shape.slice(0, -1), k];
}
