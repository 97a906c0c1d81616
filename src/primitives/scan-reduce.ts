// Cumulative sums and products along an axis, and the product reduction.
//
// cumsum is linear: its JVP is itself and its VJP the cumulative sum in the other direction.
// cumprod and prod have derivatives that must hold where elements are zero, so no rule divides
// by x. For y = cumprod(x), with E the exclusive cumulative product (E_i = Π_{k<i} x_k):
//   JVP  ẏ_i = x_i·ẏ_{i-1} + E_i·ẋ_i                   (a first-order linear recurrence)
//   VJP  x̄_j = E_j·z_j,  z_j = ȳ_j + x_{j+1}·z_{j+1}    (the same recurrence, run backward)
// and for prod, the product of the *other* elements of a slice is E_j times the reverse
// exclusive product. The recurrences run as a log-depth scan of multiplications and additions
// (Hillis–Steele), and E comes from cumprod itself, so every rule is made of primitives whose
// own rules hold at zeros: derivatives of every order are exact with one or several zeros.
import { definePrimitive, type Abstract } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { cumulativeKernel, prodKernel } from "../kernels/scan.ts";
import { full } from "../tensor/create.ts";
import { reducedShape, sizeOf } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { add, mul } from "./binary.ts";
import { sum, type ReduceParams } from "./reduce.ts";
import { broadcastTo, concat, inversePerm, reshape, slice, transpose } from "./shape.ts";
import { tensorOf } from "./abstract.ts";
import { reduceShifted } from "./batching.ts";

export interface ScanParams {
  readonly axis: number;
  /** From the end of the axis towards its start. */
  readonly reverse: boolean;
}

const shiftedAxis = (p: ScanParams): ScanParams => ({ ...p, axis: p.axis + 1 });

export const cumsumP = definePrimitive<ScanParams>({
  name: "cumsum",
  abstractEval: ([x]) => tensorOf(x!.shape, x!.dtype),
  impl: ([x], p) => cumulativeKernel(x as Tensor, p.axis, "sum", p.reverse),
  jvp: (_x, [t], _out, p) => (t === null ? null : cumsum(t!, p)),
  vjp: (ct, _x, _out, p) => [cumsum(ct, { ...p, reverse: !p.reverse })],
  batch: ([x], _batched, p): Value => cumsum(x!, shiftedAxis(p)),
});

export const cumprodP = definePrimitive<ScanParams>({
  name: "cumprod",
  abstractEval: ([x]) => tensorOf(x!.shape, x!.dtype),
  impl: ([x], p) => cumulativeKernel(x as Tensor, p.axis, "prod", p.reverse),
  jvp: ([x], [t], _out, p) => (t === null ? null : linearRecurrence(x!, mul(t!, exclusiveCumprod(x!, p)), p)),
  vjp: (ct, [x], _out, p) => {
    const next = shiftAlong(x!, 1, 0, { ...p, reverse: !p.reverse }); // x_{j+1} (x_{j-1} in reverse)
    return [mul(exclusiveCumprod(x!, p), linearRecurrence(next, ct, { ...p, reverse: !p.reverse }))];
  },
  batch: ([x], _batched, p): Value => cumprod(x!, shiftedAxis(p)),
});

/** The reduction's output: a number stays a number; a tensor loses (or keeps as 1) the reduced axes. */
const reduced = (x: Abstract, p: ReduceParams): Abstract => (x.scalar ? x : tensorOf(reducedShape(x.shape, p.axes, p.keepdims), x.dtype));

export const prodP = definePrimitive<ReduceParams>({
  name: "prod",
  abstractEval: ([x], p) => reduced(x!, p),
  impl: ([x], p) => (typeof x === "number" ? x : prodKernel(x as Tensor, p.axes, p.keepdims)),
  jvp: ([x], [t], _out, p) => (t === null ? null : sum(mul(t!, othersProduct(x!, p.axes)), p)),
  vjp: (ct, [x], _out, p) => {
    const c = p.keepdims ? ct : reshape(ct, reducedShape(shapeOf(x!), p.axes, true));
    return [mul(broadcastTo(c, shapeOf(x!)), othersProduct(x!, p.axes))];
  },
  batch: (values, _batched, p): Value => reduceShifted(prodP, values, p),
});

export const cumsum = (x: Value, p: ScanParams): Value => bind(cumsumP, [x], p);
export const cumprod = (x: Value, p: ScanParams): Value => bind(cumprodP, [x], p);
export const prod = (x: Value, p: ReduceParams): Value => bind(prodP, [x], p);

/**
 * v moved k places along the axis in the scan's direction (towards the end, or towards the
 * start when `reverse`), the k vacated places filled with `fill`.
 */
const shiftAlong = (v: Value, k: number, fill: number, p: ScanParams): Value => {
  const s = shapeOf(v);
  const n = s[p.axis]!;
  const m = Math.min(k, n);
  const pad = full(s.map((d, a) => (a === p.axis ? m : d)), fill, dtypeOf(v));
  if (m === n) return broadcastTo(pad, s);
  const starts = s.map((_, a) => (a === p.axis && p.reverse ? m : 0));
  const ends = s.map((d, a) => (a === p.axis && !p.reverse ? n - m : d));
  const kept = slice(v, starts, ends);
  return concat(p.reverse ? [kept, pad] : [pad, kept], p.axis);
};

/** E: the product of the elements before each one along the scan (1 for the first). */
export const exclusiveCumprod = (x: Value, p: ScanParams): Value => shiftAlong(cumprod(x, p), 1, 1, p);

/**
 * s with s_i = a_i·s_{i-1} + u_i along the scan (s before the first element is 0), by
 * log₂(n) doubling steps on the pairs (A, U) of the composed affine maps.
 */
export const linearRecurrence = (a: Value, u: Value, p: ScanParams): Value => {
  const n = shapeOf(u)[p.axis]!;
  let A = broadcastTo(a, shapeOf(u));
  let U = u;
  for (let k = 1; k < n; k *= 2) {
    U = add(U, mul(A, shiftAlong(U, k, 0, p)));
    if (2 * k < n) A = mul(A, shiftAlong(A, k, 1, p));
  }
  return U;
};

/**
 * Each element's product of the other elements of its slice over `axes` (Π_{k≠j} x_k), as the
 * forward times the backward exclusive cumulative product: no division, so exact at zeros.
 */
export const othersProduct = (x: Value, axes: readonly number[]): Value => {
  const s = shapeOf(x);
  if (axes.length === 0) return 1; // each element is its own slice (a number keeps tangents numbers)
  const keptAxes = s.map((_, a) => a).filter((a) => !axes.includes(a));
  const perm = [...keptAxes, ...axes];
  const moved = transpose(x, perm);
  const keptShape = keptAxes.map((a) => s[a]!);
  const n = sizeOf(axes.map((a) => s[a]!));
  const lines = reshape(moved, [...keptShape, n]);
  const last = keptShape.length;
  const others = mul(exclusiveCumprod(lines, { axis: last, reverse: false }), exclusiveCumprod(lines, { axis: last, reverse: true }));
  return transpose(reshape(others, perm.map((a) => s[a]!)), inversePerm(perm));
};
