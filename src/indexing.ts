// oneHot, segmentSum, dynamicSlice and dynamicUpdateSlice in direct style. Index arguments are
// a number[], an Int32Array or an integer-valued tensor; indices known now are checked (a bad
// one is an IndexError) and used by position, while indices that exist only at run time (staged
// by jit, batched by vmap) select by a one-hot comparison mask (see staged-indices.ts), or, for
// the starts of a window, are operands of the primitive (see primitives/dynamic-slice.ts).
import { Traced, dtypeOf, shapeOf, type Value } from "../effects/value.ts";
import { IndexError, ShapeError, ValueError, fmt, show } from "./errors.ts";
import { checkWindow } from "./kernels/dynamic-slice.ts";
import { checkOperand } from "./lax.ts";
import { cast } from "./primitives/cast.ts";
import * as DS from "./primitives/dynamic-slice.ts";
import { matmul2 } from "./primitives/matmul.ts";
import * as S from "./primitives/shape.ts";
import { concreteOf, knownIndices, oneHotMask, stackIndices } from "./staged-indices.ts";
import { checkSize, sizeOf } from "./tensor/shape.ts";
import { Tensor, allocate, promote, type DType } from "./tensor/tensor.ts";

/** An index argument: numbers, an Int32Array, or an integer-valued tensor (traced ones too). */
export type IndexArgument = number | readonly Value[] | Int32Array | Value;

type ReadIndices =
  | { kind: "known"; values: ArrayLike<unknown>; shape: readonly number[]; dtype: DType }
  | { kind: "runtime"; indices: Value };

/** The indices as values known now (with their shape), or as a value that exists only at run time. */
const readIndices = (op: string, what: string, indices: IndexArgument): ReadIndices => {
  if (typeof indices === "number") return { kind: "known", values: [indices], shape: [], dtype: "float64" };
  if (indices instanceof Int32Array) return { kind: "known", values: indices, shape: [indices.length], dtype: "float64" };
  if (Array.isArray(indices)) {
    const known = knownIndices(indices);
    if (known === undefined) return { kind: "runtime", indices: stackIndices(op, indices as readonly Value[]) };
    return { kind: "known", values: known as readonly unknown[], shape: [indices.length], dtype: "float64" };
  }
  if (indices instanceof Tensor || indices instanceof Traced) {
    const c = concreteOf(indices);
    if (c === undefined) return { kind: "runtime", indices };
    const t = typeof c === "number" ? new Tensor(Float64Array.of(c), []) : c;
    return { kind: "known", values: t.buf, shape: t.shape, dtype: t.dtype };
  }
  throw new ValueError(`${op}: ${what} must be a number[], an Int32Array or an integer-valued tensor, got ${show(indices)}`);
};

/** Known indices as an Int32Array, each an integer in [0, n). */
const checkedIndices = (op: string, what: string, values: ArrayLike<unknown>, n: number): Int32Array => {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const k = values[i];
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= n)
      throw new IndexError(
        `${op}: ${what} ${show(k)} at position ${i} is not an integer in [0, ${n - 1}]` +
          (n === 0 ? " (an empty range: there is no valid one)" : "") + `; every ${what} must be one`,
      );
    out[i] = k;
  }
  return out;
};

const checkCount = (op: string, what: string, n: unknown): number => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new ValueError(`${op}: ${what} must be a non-negative integer, got ${show(n)}`);
  return n;
};

/**
 * [...S, n] for indices of shape S: 1 at each index's position, 0 elsewhere. Indices known now
 * must lie in [0, n); one known only at run time that does not gives a row of zeros (as JAX).
 */
export const oneHot = (indices: IndexArgument, n: number): Value => {
  checkCount("oneHot", "n (the number of classes)", n);
  const r = readIndices("oneHot", "indices", indices);
  checkSize("oneHot", [...(r.kind === "known" ? r.shape : shapeOf(r.indices)), n]);
  if (r.kind === "runtime") return oneHotMask(r.indices, n, dtypeOf(r.indices));
  const idx = checkedIndices("oneHot", "index", r.values, n);
  const out = allocate(r.dtype, idx.length * n);
  idx.forEach((k, i) => (out[i * n + k] = 1));
  return new Tensor(out, [...r.shape, n]);
};

/**
 * out[s] = Σ data[i] over the i with segmentIds[i] = s, for s in [0, numSegments): data
 * [m, ...R] → [numSegments, ...R]. An id known now outside [0, numSegments) is an IndexError;
 * one known only at run time is dropped (as JAX), and those sums run as a one-hot product,
 * exact for finite data.
 */
export const segmentSum = (data: Value, segmentIds: IndexArgument, numSegments: number): Value => {
  checkOperand("segmentSum", data, "data");
  const ds = shapeOf(data);
  if (ds.length === 0) throw new ShapeError("segmentSum: data is 0-d; it needs a leading axis of rows to sum into segments (reshape it to [1] first)");
  checkCount("segmentSum", "numSegments", numSegments);
  const m = ds[0]!;
  checkSize("segmentSum", [numSegments, ...ds.slice(1)]);
  const r = readIndices("segmentSum", "segmentIds", segmentIds);
  const idShape = r.kind === "known" ? r.shape : shapeOf(r.indices);
  if (idShape.length !== 1 || idShape[0] !== m)
    throw new ShapeError(`segmentSum: segmentIds have shape ${fmt(idShape)}; for data of shape ${fmt(ds)} give one id per row, shape [${m}]`);
  if (r.kind === "known") {
    const ids = checkedIndices("segmentSum", "segment id", r.values, numSegments);
    return S.scatterAdd(data, { indices: ids, indexShape: [m], axis: 0 }, numSegments);
  }
  const rest = ds.slice(1);
  const mask = oneHotMask(r.indices, numSegments, dtypeOf(data)); // [m, numSegments]
  const sums = matmul2(mask, S.reshape(data, [m, sizeOf(rest)]), true, false);
  return S.reshape(sums, [numSegments, ...rest]);
};

/** Window starts as scalar operands, one per axis (numbers checked to be integers). */
const readStarts = (op: string, starts: IndexArgument, rank: number): Value[] => {
  let list: Value[];
  if (starts instanceof Int32Array) list = Array.from(starts);
  else if (Array.isArray(starts)) list = (starts as readonly unknown[]).map((s, i) => checkOperand(op, s, `start ${i}`));
  else if (starts instanceof Tensor || starts instanceof Traced) {
    const s = shapeOf(starts);
    if (s.length !== 1) throw new ShapeError(`${op}: starts have shape ${fmt(s)}; give a vector of ${rank} starts, one per axis`);
    const c = concreteOf(starts);
    list =
      c instanceof Tensor
        ? Array.from(c.buf)
        : Array.from({ length: s[0]! }, (_, i) => S.reshape(S.slice(starts, [i], [i + 1]), []));
  } else throw new ValueError(`${op}: starts must be a number[], an Int32Array or a tensor of integers, got ${show(starts)}`);
  if (list.length !== rank) throw new ShapeError(`${op}: ${list.length} starts for an operand of rank ${rank}; give one start per axis`);
  list.forEach((v, i) => {
    if (sizeOf(shapeOf(v)) !== 1) throw new ShapeError(`${op}: start ${i} has shape ${fmt(shapeOf(v))}; each start must be a scalar`);
    const k = concreteOf(v);
    const n = typeof k === "number" ? k : k?.buf[0];
    if (n !== undefined && !Number.isInteger(n)) throw new IndexError(`${op}: start ${n} of axis ${i} is not an integer; starts must be integers`);
  });
  return list;
};

/**
 * The window of `sizes` at `starts` (each start clamped into [0, d − size], as JAX): starts
 * may be traced scalars, known only at run time under jit.
 */
export const dynamicSlice = (x: Value, starts: IndexArgument, sizes: readonly number[]): Value => {
  checkOperand("dynamicSlice", x);
  const xs = shapeOf(x);
  if (!Array.isArray(sizes)) throw new ShapeError(`dynamicSlice: sizes must be an array of ${xs.length} integers, got ${show(sizes)}`);
  checkWindow("dynamicSlice", xs, sizes);
  const s = readStarts("dynamicSlice", starts, xs.length);
  return xs.length === 0 ? x : DS.dynamicSlice(x, s, sizes);
};

/** x with `update` written at `starts` (clamped so the update fits, as JAX); dtypes promote. */
export const dynamicUpdateSlice = (x: Value, update: Value, starts: IndexArgument): Value => {
  checkOperand("dynamicUpdateSlice", x);
  checkOperand("dynamicUpdateSlice", update, "update");
  const xs = shapeOf(x);
  const us = shapeOf(update);
  if (us.length !== xs.length)
    throw new ShapeError(`dynamicUpdateSlice: the update's shape ${fmt(us)} has rank ${us.length}, the operand's ${fmt(xs)} rank ${xs.length}; they must match`);
  checkWindow("dynamicUpdateSlice", xs, us, "the update's shape");
  const s = readStarts("dynamicUpdateSlice", starts, xs.length);
  const dtype = promote(dtypeOf(x), dtypeOf(update));
  if (xs.length === 0) return cast(S.reshape(S.reshape(update, [1]), []), dtype); // a 0-d window is the whole of x
  return DS.dynamicUpdateSlice(cast(x, dtype), cast(update, dtype), s);
};
