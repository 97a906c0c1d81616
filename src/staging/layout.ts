// Facts about where elements lie that let generated code skip work: a slice or a zero-pad that
// is one contiguous run, pieces that do not overlap, a matrix product that is an outer product,
// shapes equal but for leading axes of extent 1.
import { Tensor } from "../tensor/tensor.ts";
import type { Atom, Eqn, PrimEqn } from "./ir.ts";
import { contraction, sliceBounds } from "./capabilities.ts";

export interface PadParams {
  starts: readonly number[];
  shape: readonly number[];
}

/** A piece of an assembled sum: `src` copied at element `offset`. */
export interface Piece {
  src: Atom;
  offset: number;
  size: number;
}

/**
 * Where a zero pad of x lands in its (row-major) result if x is one contiguous run there: the
 * axes before the padded one have size 1 and those after it are not padded. Else null.
 */
export function contiguousOffset(x: readonly number[], p: PadParams): number | null {
  const out = p.shape;
  if (out.length !== x.length) return null;
  let axis = -1;
  for (let k = 0; k < out.length; k++) if (out[k] !== x[k] || p.starts[k] !== 0) axis = axis < 0 ? k : axis;
  if (axis < 0) return 0;
  for (let k = 0; k < axis; k++) if (out[k] !== 1) return null;
  for (let k = axis + 1; k < out.length; k++) if (out[k] !== x[k] || p.starts[k] !== 0) return null;
  return p.starts[axis]! * out.slice(axis + 1).reduce((a, b) => a * b, 1);
}

export const disjoint = (pieces: readonly Piece[]): boolean => {
  const sorted = [...pieces].sort((a, b) => a.offset - b.offset);
  return sorted.every((p, i) => i === 0 || sorted[i - 1]!.offset + sorted[i - 1]!.size <= p.offset);
};

/**
 * The element offset of a slice that is one contiguous run of its operand (one element of every
 * axis before the sliced one, every element of those after it), or null.
 */
export function sliceOffset(e: Eqn): number | null {
  const bounds = e.kind === "prim" ? sliceBounds(e.prim, e.params) : undefined;
  if (e.kind !== "prim" || !bounds) return null;
  const x = e.inputs[0]!;
  if (x.kind !== "var" || x.v.scalar || x.v.dtype !== e.out.dtype) return null;
  const { starts, ends } = bounds;
  const shape = x.v.shape;
  let axis = -1;
  for (let k = 0; k < shape.length; k++) if (starts[k] !== 0 || ends[k] !== shape[k]) axis = axis < 0 ? k : axis;
  if (axis < 0) return null; // the whole operand
  for (let k = 0; k < axis; k++) if (ends[k]! - starts[k]! !== 1) return null;
  for (let k = axis + 1; k < shape.length; k++) if (starts[k] !== 0 || ends[k] !== shape[k]) return null;
  let offset = 0;
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    offset += starts[k]! * stride;
    stride *= shape[k]!;
  }
  return offset;
}

/** A matrix product with inner dimension 1 of two 2-d tensors (either read transposed): x ⊗ y. */
export function isOuterProduct(e: PrimEqn): boolean {
  const flags = contraction(e.prim, e.params);
  if (!flags) return false;
  const tensorOf = (x: Atom | undefined): { shape: readonly number[]; dtype: string } | null =>
    x === undefined ? null : x.kind === "var" ? (x.v.scalar ? null : x.v) : x.value instanceof Tensor ? x.value : null;
  const [a, b] = [tensorOf(e.inputs[0]), tensorOf(e.inputs[1])];
  if (!a || !b || a.shape.length !== 2 || b.shape.length !== 2 || a.dtype !== e.out.dtype || b.dtype !== e.out.dtype) return false;
  return (flags.transA ? a.shape[0] : a.shape[1]) === 1;
}

export const withoutLeadingOnes = (s: readonly number[]): readonly number[] => {
  let i = 0;
  while (i < s.length && s[i] === 1) i++;
  return s.slice(i);
};
