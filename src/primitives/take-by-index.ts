// take and its adjoint with the indices as an operand (data, e.g. a GPU tensor that the host
// reads only asynchronously) rather than a parameter: a gather and a scatter-add that read the
// indices where they run. Their meaning is the one-hot path's (staged-indices.ts), which serves
// indices known only at run time: a negative index counts from the end; an index out of range
// or not an integer selects nothing — its row of the gather is `fill` (NaN for take's value, 0
// for the linear maps of its derivatives) and the scatter drops it. Both are linear in their
// first operand, each the other's adjoint (with fill 0); the indices get no derivative.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, fmt } from "../errors.ts";
import { sizeOf } from "../tensor/shape.ts";
import { allocate, Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";
import { perExample } from "./batching.ts";
import { asTensor } from "./shape.ts";

export interface TakeByIndexParams {
  readonly axis: number;
  /** A gathered row whose index selects nothing: NaN (take's value) or 0 (the linear maps). */
  readonly fill: number;
}
export interface ScatterByIndexParams {
  readonly axis: number;
  /** The length of the scattered-into axis. */
  readonly dim: number;
}

/** The row an index selects in an axis of `dim`, or −1 for none (wrapped once if negative). */
export const selectedRow = (k: number, dim: number): number => {
  const w = k < 0 ? k + dim : k;
  return Number.isInteger(w) && w >= 0 && w < dim ? w + 0 : -1; // (+0 for −0)
};

const around = (shape: readonly number[], axis: number, k: number): [number, number] => [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis + k))];

export const takeByIndexP = definePrimitive<TakeByIndexParams>({
  name: "takeByIndex",
  abstractEval: ([x, i], p) => {
    if (p.axis < 0 || p.axis >= x!.shape.length) throw new ShapeError(`take: axis ${p.axis} does not exist for shape ${fmt(x!.shape)}`);
    return tensorOf([...x!.shape.slice(0, p.axis), ...(i!.scalar ? [] : i!.shape), ...x!.shape.slice(p.axis + 1)], x!.dtype);
  },
  impl: ([x, i], p) => {
    const xt = asTensor(x!);
    const it = asTensor(i!);
    const dim = xt.shape[p.axis]!;
    const [outer, inner] = around(xt.shape, p.axis, 1);
    const m = it.size;
    const out = allocate(xt.dtype, outer * m * inner);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++) {
        const r = selectedRow(it.buf[j]!, dim);
        for (let t = 0; t < inner; t++) out[(o * m + j) * inner + t] = r < 0 ? p.fill : xt.buf[(o * dim + r) * inner + t]!;
      }
    return new Tensor(out, [...xt.shape.slice(0, p.axis), ...it.shape, ...xt.shape.slice(p.axis + 1)]);
  },
  jvp: ([, i], [t], _out, p) => (t === null ? null : takeByIndex(t!, i!, p.axis, 0)),
  vjp: (ct, [x, i], _out, p, wanted) => [wanted[0] ? scatterByIndex(ct, i!, p.axis, shapeOf(x!)[p.axis]!) : null, null],
  batch: ([x, i], batched, p, size): Value =>
    batched[1] ? perExample(takeByIndexP, [x!, i!], batched, p, size) : takeByIndex(x!, i!, p.axis + 1, p.fill),
});

export const scatterByIndexP = definePrimitive<ScatterByIndexParams>({
  name: "scatterByIndex",
  abstractEval: ([v, i], p) => {
    const is = i!.scalar ? [] : i!.shape;
    const k = is.length;
    if (p.axis < 0 || p.axis + k > v!.shape.length || is.some((d, a) => v!.shape[p.axis + a] !== d))
      throw new ShapeError(`take (its gradient): a cotangent of shape ${fmt(v!.shape)} does not hold indices of shape ${fmt(is)} at axis ${p.axis}`);
    return tensorOf([...v!.shape.slice(0, p.axis), p.dim, ...v!.shape.slice(p.axis + k)], v!.dtype);
  },
  impl: ([v, i], p) => {
    const vt = asTensor(v!);
    const it = asTensor(i!);
    const k = it.shape.length;
    const m = it.size;
    const [outer, inner] = around(vt.shape, p.axis, k);
    const out = allocate(vt.dtype, outer * p.dim * inner);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++) {
        const r = selectedRow(it.buf[j]!, p.dim);
        if (r < 0) continue;
        for (let t = 0; t < inner; t++) out[(o * p.dim + r) * inner + t]! += vt.buf[(o * m + j) * inner + t]!;
      }
    return new Tensor(out, [...vt.shape.slice(0, p.axis), p.dim, ...vt.shape.slice(p.axis + k)]);
  },
  jvp: ([, i], [t], _out, p) => (t === null ? null : scatterByIndex(t!, i!, p.axis, p.dim)),
  vjp: (ct, [, i], _out, p, wanted) => [wanted[0] ? takeByIndex(ct, i!, p.axis, 0) : null, null],
  batch: ([v, i], batched, p, size): Value =>
    batched[1] ? perExample(scatterByIndexP, [v!, i!], batched, p, size) : scatterByIndex(v!, i!, p.axis + 1, p.dim),
});

/** x's slices along `axis` at the indices (an operand), the index axes in its place. */
export const takeByIndex = (x: Value, indices: Value, axis: number, fill = NaN): Value =>
  bind(takeByIndexP, [x, indices], { axis, fill });
/** Zeros with `dim` slices along `axis`, v's slices added at the indices (repeated ones sum, unselecting ones dropped). */
export const scatterByIndex = (v: Value, indices: Value, axis: number, dim: number): Value =>
  bind(scatterByIndexP, [v, indices], { axis, dim });

