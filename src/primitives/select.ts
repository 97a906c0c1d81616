// Selections: max/min reductions and max pooling pick one element per output (the first
// arg-max). Each is a pair of primitives parameterized by how the picks are found:
//   gather(x, v)  = v at the elements x picks     (max(x) = gather(x, x))
//   scatter(x, c) = zeros shaped like x, with c added at the picked elements
// The picks are computed inside the kernels, from the concrete x, so no rule needs a concrete
// value: both are linear in their second operand, constant in the first (the picks do not
// move under an infinitesimal change of x), and each is the other's adjoint. That makes every
// derivative of every order correct, under any handler.
import { definePrimitive, type Primitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import type { Pads } from "../kernels/conv-spec.ts";
import { checkPool2d, maxPool2dGatherKernel, maxPool2dKernel, maxPool2dScatterKernel } from "../kernels/pool.ts";
import { argReduceKernel, checkReducible } from "../kernels/reduce.ts";
import { scatterAddKernel, takeKernel } from "../kernels/shape-ops.ts";
import { reducedShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { asTensor } from "./shape.ts";
import { tensorOf } from "./abstract.ts";
import { allBatched, foldImages, foldShape, shiftAxes, unfoldImages } from "./batching.ts";

export interface Selector<P> {
  readonly name: string;
  /** Flat indices into x of the picked elements, in output order. */
  picks(x: Tensor, params: P): Int32Array;
  /** The output's shape for an input of shape `xShape`, with the kernels' checks (abstract evaluation uses it). */
  outShape(xShape: readonly number[], params: P): number[];
  /** Optional kernels doing gather / scatter whole (finding each pick as they use it). */
  gather?(x: Tensor, v: Tensor, params: P): Tensor;
  scatter?(x: Tensor, c: Tensor, params: P): Tensor;
  /** The batching rule of both primitives (`prim` is the gather or the scatter). */
  batch(prim: Primitive<P>, values: readonly Value[], batched: readonly boolean[], params: P, size: number): Value;
}

export interface Selection<P> {
  gather: Primitive<P>;
  scatter: Primitive<P>;
}

export function selection<P>(s: Selector<P>): Selection<P> {
  const flat = (t: Tensor): Tensor => new Tensor(t.buf, [t.size]);
  const gather: Primitive<P> = definePrimitive<P>({
    name: `${s.name}Gather`,
    abstractEval: ([x, v], p) => tensorOf(s.outShape(x!.shape, p), v!.dtype),
    impl: ([x, v], p) => {
      const xt = asTensor(x!);
      if (s.gather) return s.gather(xt, asTensor(v!), p);
      const idx = s.picks(xt, p);
      const out = takeKernel(flat(asTensor(v!)), idx, [idx.length], 0);
      return new Tensor(out.buf, s.outShape(xt.shape, p));
    },
    jvp: ([x], [, tv], _out, p) => (tv === null ? null : bind(gather, [x!, tv!], p)),
    vjp: (ct, [x], _out, p, wanted) => [null, wanted[1] ? bind(scatter, [x!, ct], p) : null],
    batch: (values, batched, p, size): Value => s.batch(gather, values, batched, p, size),
  });
  const scatter: Primitive<P> = definePrimitive<P>({
    name: `${s.name}Scatter`,
    abstractEval: ([x, c], p) => (s.outShape(x!.shape, p), tensorOf(x!.shape, c!.dtype)),
    impl: ([x, c], p) => {
      const xt = asTensor(x!);
      if (s.scatter) return s.scatter(xt, asTensor(c!), p);
      const idx = s.picks(xt, p);
      const out = scatterAddKernel(flat(asTensor(c!)), idx, [idx.length], 0, xt.size);
      return new Tensor(out.buf, xt.shape);
    },
    jvp: ([x], [, tc], _out, p) => (tc === null ? null : bind(scatter, [x!, tc!], p)),
    vjp: (g, [x], _out, p, wanted) => [null, wanted[1] ? bind(gather, [x!, g], p) : null],
    batch: (values, batched, p, size): Value => s.batch(scatter, values, batched, p, size),
  });
  return { gather, scatter };
}

export interface ExtremumParams {
  readonly kind: "max" | "min";
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

/** max/min over axes: the first arg-max (arg-min) of each reduced slice. */
export const extremum = selection<ExtremumParams>({
  name: "extremum",
  picks: (x, p) => argReduceKernel(x, p.axes, p.kind),
  outShape: (xs, p) => {
    checkReducible(`arg${p.kind}`, xs, p.axes);
    return reducedShape(xs, p.axes, p.keepdims);
  },
  batch: (prim, values, batched, p, size): Value => bind(prim, allBatched(values, batched, size), { ...p, axes: shiftAxes(p.axes) }),
});

export interface MaxPoolParams {
  readonly size: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [[top, bottom], [left, right]], counting as −∞. */
  readonly padding: Pads;
  readonly outShape: readonly number[];
}

/** Max pooling: the first maximum of each window (padding counts as −∞; it is never picked while the window holds a larger value). */
export const maxPool = selection<MaxPoolParams>({
  name: "maxPool2d",
  picks: (x, p) => maxPool2dKernel(x, p.size, p.stride, p.padding).argmax,
  outShape: (xs, p) => checkPool2d("maxPool2d", { shape: xs }, { size: p.size, stride: p.stride, padding: p.padding }).outShape,
  gather: (x, v, p) => maxPool2dGatherKernel(x, v, p.size, p.stride, p.padding),
  scatter: (x, c, p) => maxPool2dScatterKernel(x, c, p.size, p.stride, p.padding),
  // The batch folded into the images' N.
  batch: (prim, values, batched, p, size): Value =>
    unfoldImages(bind(prim, allBatched(values, batched, size).map(foldImages), { ...p, outShape: foldShape(p.outShape, size) }), size),
});

export const select = <P>(s: Selection<P>, x: Value, p: P): Value => bind(s.gather, [x, x], p);
