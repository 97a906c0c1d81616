// Reductions: sum and logsumexp are primitives; sumTo (the adjoint of broadcasting) is built
// from sum and reshape.
import { definePrimitive, type Abstract } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { checkReducible, logSoftmaxKernel, logsumexpKernel, sumKernel } from "../kernels/reduce.ts";
import { reducedShape, sameShape, type Shape } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { exp } from "./unary.ts";
import { mul, sub } from "./binary.ts";
import { broadcastTo, reshape } from "./shape.ts";
import { tensorOf } from "./abstract.ts";
import { reduceShifted } from "./batching.ts";

export interface ReduceParams {
  /** Normalized, sorted, distinct axes. */
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

/** The cotangent of a reduction, with its reduced axes put back as size-1 axes. */
const kept = (v: Value, x: Value, p: ReduceParams): Value =>
  p.keepdims ? v : reshape(v, reducedShape(shapeOf(x), p.axes, true));

/** A reduction's output: a number stays a number; a tensor loses (or keeps as 1) the reduced axes. */
const reduced = (x: Abstract, p: ReduceParams): Abstract => (x.scalar ? x : tensorOf(reducedShape(x.shape, p.axes, p.keepdims), x.dtype));

export const sumP = definePrimitive<ReduceParams>({
  name: "sum",
  capabilities: { sumAxes: (p) => p.axes },
  abstractEval: ([x], p) => reduced(x!, p),
  impl: (args, p) => {
    const x = args[0]!;
    return typeof x === "number" ? x : sumKernel(x as Tensor, p.axes, p.keepdims);
  },
  jvp: (_p, [t], _out, p) => (t === null ? null : sum(t!, p)),
  vjp: (ct, [x], _out, p) => [broadcastTo(kept(ct, x!, p), shapeOf(x!))],
  batch: (values, _batched, p): Value => reduceShifted(sumP, values, p),
});

/** log Σ exp(x) over axes, computed stably; its derivatives are softmax-weighted. */
export const logsumexpP = definePrimitive<ReduceParams>({
  name: "logsumexp",
  abstractEval: ([x], p) => {
    if (!x!.scalar) checkReducible("logsumexp", x!.shape, p.axes);
    return reduced(x!, p);
  },
  impl: (args, p) => {
    const x = args[0]!;
    return typeof x === "number" ? x : logsumexpKernel(x as Tensor, p.axes, p.keepdims);
  },
  jvp: ([x], [t], out, p) => (t === null ? null : sum(mul(t!, softmaxFrom(x!, out, p)), p)),
  vjp: (ct, [x], out, p) => [mul(broadcastTo(kept(ct, x!, p), shapeOf(x!)), softmaxFrom(x!, out, p))],
  batch: (values, _batched, p): Value => reduceShifted(logsumexpP, values, p),
});

const softmaxFrom = (x: Value, lse: Value, p: ReduceParams): Value => exp(sub(x, kept(lse, x, p)));

/**
 * x − logsumexp(x) over axes (keepdims), one kernel instead of max, shift, logsumexp and sub;
 * with y its result and softmax = exp(y): dy = dx − Σ softmax·dx, and x̄ = ȳ − softmax·Σ ȳ.
 */
export const logSoftmaxP = definePrimitive<ReduceParams>({
  name: "logSoftmax",
  abstractEval: ([x]) => x!, // x's shape and dtype (a number: x − x)
  impl: (args, p) => (typeof args[0] === "number" ? args[0] - args[0] : logSoftmaxKernel(args[0] as Tensor, p.axes)),
  jvp: (_x, [t], out, p) => (t === null ? null : sub(t!, sum(mul(t!, exp(out)), p))),
  vjp: (ct, _x, out, p) => [sub(ct, mul(exp(out), sum(ct, p)))],
  batch: (values, _batched, p): Value => reduceShifted(logSoftmaxP, values, p),
});

export const sum = (x: Value, p: ReduceParams): Value => bind(sumP, [x], p);
export const logsumexp = (x: Value, p: ReduceParams): Value => bind(logsumexpP, [x], p);
export const logSoftmax = (x: Value, p: ReduceParams): Value => bind(logSoftmaxP, [x], p);

/** Sums `v` down to `shape` (the adjoint of broadcasting `shape` up to v's shape). */
export const sumTo = (v: Value, shape: Shape): Value => {
  const vs = shapeOf(v);
  if (sameShape(vs, shape)) return v;
  const lead = vs.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < vs.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && vs[i] !== 1)) axes.push(i);
  }
  const summed = axes.length === 0 ? v : sum(v, { axes, keepdims: true });
  return reshape(summed, shape);
};
