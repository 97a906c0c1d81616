// flip: reverses the order of the elements along some axes. It is linear and its own inverse,
// so its tangent and its cotangent are flips along the same axes.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { checkFlip, flipKernel } from "../kernels/flip.ts";
import { tensorOf } from "./abstract.ts";
import { shiftAxes } from "./batching.ts";
import { asTensor } from "./shape.ts";

export interface FlipParams {
  /** Distinct axes of the operand, normalized (non-negative). */
  readonly axes: readonly number[];
}

export const flipP = definePrimitive<FlipParams>({
  name: "flip",
  abstractEval: ([x], p) => (checkFlip(x!.shape, p.axes), tensorOf(x!.shape, x!.dtype)),
  impl: (args, p) => flipKernel(asTensor(args[0]!), p.axes),
  jvp: (_p, [t], _out, p) => (t === null ? null : flip(t!, p.axes)),
  vjp: (ct, _x, _out, p) => [flip(ct, p.axes)],
  batch: ([x], _batched, p): Value => bind(flipP, [x!], { axes: shiftAxes(p.axes) }),
});

/** `x` reversed along `axes` (normalized); no axes: `x` itself. */
export const flip = (x: Value, axes: readonly number[]): Value => (axes.length === 0 ? x : bind(flipP, [x], { axes }));
