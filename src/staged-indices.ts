// Indices known only when the program runs: staged by jit (an Int32Array or a tensor of labels
// passed to a jitted step) or batched by vmap (one label per example). A gather cannot take
// them, since its positions are fixed when it is recorded. They select by comparison instead:
// equal(index, arange(n)) is a one-hot mask that every handler stages, batches and
// differentiates (the mask has no derivative; what it selects from does).
import { BatchBox } from "../effects/batch.ts";
import { Traced, dtypeOf, shapeOf, type Value } from "../effects/value.ts";
import { toDevice } from "./backend/backend.ts";
import { ShapeError, fmt } from "./errors.ts";
import * as B from "./primitives/binary.ts";
import { cast } from "./primitives/cast.ts";
import { matmul2 } from "./primitives/matmul.ts";
import * as R from "./primitives/reduce.ts";
import * as S from "./primitives/shape.ts";
import { sizeOf } from "./tensor/shape.ts";
import { Tensor, allocate, type DType } from "./tensor/tensor.ts";

/**
 * The concrete number or Tensor behind `v`, or undefined where none is readable now: staged or
 * batched values, and device (GPU) tensors, whose elements the host reads only asynchronously —
 * their indices select on the device, as run-time ones do.
 */
export const concreteOf = (v: Value): number | Tensor | undefined => {
  let x = v;
  while (x instanceof Traced) {
    if (!x.hasInner) return undefined;
    x = x.inner;
  }
  return x instanceof Tensor && x.backend !== "cpu" ? undefined : x;
};

/**
 * Indices as concrete values (a number[], an Int32Array or a Tensor, left for the caller to
 * check), or undefined when some exist only at run time.
 */
export const knownIndices = (indices: readonly Value[] | Int32Array | Value): readonly unknown[] | Int32Array | Tensor | undefined => {
  if (indices instanceof Int32Array) return indices;
  if (indices instanceof Tensor) return concreteOf(indices) as Tensor | undefined;
  if (Array.isArray(indices)) {
    const out: unknown[] = [];
    for (const v of indices as readonly unknown[]) {
      const c = v instanceof Traced || v instanceof Tensor ? concreteOf(v) : v;
      if (c === undefined && v !== undefined) return undefined;
      out.push(c instanceof Tensor && c.size === 1 ? c.buf[0] : c);
    }
    return out;
  }
  if (indices instanceof Traced) return concreteOf(indices) as Tensor | undefined;
  return indices as never; // anything else: the caller's check names it
};

/** A list of indices (numbers and traced scalars, e.g. a number[] argument of a jitted program) as one value [n]. */
export const stackIndices = (op: string, list: readonly Value[]): Value => {
  const parts = list.map((v, i) => {
    if (sizeOf(shapeOf(v)) !== 1) throw new ShapeError(`${op}: index ${i} of the list has shape ${fmt(shapeOf(v))}; each must be a scalar`);
    return typeof v === "number" ? new Tensor(Float64Array.of(v), [1]) : S.reshape(v, [1]);
  });
  return parts.length === 0 ? new Tensor(new Float64Array(0), [0]) : parts.length === 1 ? parts[0]! : S.concat(parts, 0);
};

const positions = (n: number, dtype: DType): Tensor => {
  const buf = allocate(dtype, n);
  for (let k = 0; k < n; k++) buf[k] = k;
  return new Tensor(buf, [n]);
};

/**
 * [...S, n]: 1 where the index (of shape S) equals the position along the last axis, 0 elsewhere,
 * in `dtype`. An index outside [0, n), or not an integer, gives a row of zeros.
 */
export const oneHotMask = (indices: Value, n: number, dtype: DType): Value =>
  B.equal(S.reshape(cast(indices, dtype), [...shapeOf(indices), 1]), besideOf(indices, positions(n, dtype)));

/** Whether a device (GPU) tensor stands behind `v` (through the boxes that hold one, and vmap's stacked batch). */
export const heldOnDevice = (v: Value): boolean => {
  let x = v;
  while (x instanceof Traced && (x.hasInner || x instanceof BatchBox)) x = x instanceof BatchBox ? x.value : x.inner;
  return x instanceof Tensor && x.backend !== "cpu";
};

/** `t` on the device of the tensor behind `v` (an index tensor on the GPU compares with positions there). */
const besideOf = (v: Value, t: Tensor): Tensor => (heldOnDevice(v) ? toDevice(t) : t);

/**
 * take(x, indices, axis) for indices that exist only at run time: one-hot rows times x, with the
 * indexed axis moved first ([m, D] · [D, rest]). Negative indices count from the end, as in
 * `take`; an index out of range, which cannot be checked before the program runs, gives NaN
 * (as JAX's gather in its default "fill" mode).
 */
export const takeByMask = (x: Value, indices: Value, axis: number): Value => {
  const xs = shapeOf(x);
  const dim = xs[axis]!;
  const dtype = dtypeOf(x);
  const indexShape = shapeOf(indices);
  const m = sizeOf(indexShape);
  const rest = [...xs.slice(0, axis), ...xs.slice(axis + 1)];
  const flat = S.reshape(indices, [m]);
  const wrapped = B.add(flat, B.mul(B.less(flat, 0), dim));
  const mask = oneHotMask(wrapped, dim, dtype); // [m, D]
  const moved = S.reshape(S.transpose(x, [axis, ...xs.map((_, d) => d).filter((d) => d !== axis)]), [dim, sizeOf(rest)]);
  const hit = R.sum(mask, { axes: [1], keepdims: true }); // [m, 1]: 1 for an index in range, else 0
  const rows = B.where(hit, matmul2(mask, moved), NaN); // [m, rest]
  // [...indexShape, ...rest] → the index axes in the place of `axis`
  const gathered = S.reshape(rows, [...indexShape, ...rest]);
  const k = indexShape.length;
  const perm = [
    ...Array.from({ length: axis }, (_, d) => k + d),
    ...Array.from({ length: k }, (_, d) => d),
    ...Array.from({ length: rest.length - axis }, (_, d) => k + axis + d),
  ];
  return S.transpose(gathered, perm);
};
