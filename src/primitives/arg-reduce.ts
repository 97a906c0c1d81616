// argmax / argmin along one axis: the position of the first maximum (minimum) of each line, or
// of the first NaN where there is one (as NumPy). The result is integer-valued (float64, exact
// for every index) and constant in x: it has no derivative.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { argReduceKernel, checkReducible } from "../kernels/reduce.ts";
import { positionsAlong } from "../kernels/sort.ts";
import { reducedShape } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { tensorOf } from "./abstract.ts";

export interface ArgReduceParams {
  readonly kind: "max" | "min";
  readonly axis: number;
}

export const argReduceP = definePrimitive<ArgReduceParams>({
  name: "argReduce",
  abstractEval: ([x], p) => {
    checkReducible(`arg${p.kind}`, x!.shape, [p.axis]);
    return tensorOf(reducedShape(x!.shape, [p.axis], false), "float64");
  },
  impl: ([x], p) => {
    const t = x as Tensor;
    const flat = argReduceKernel(t, [p.axis], p.kind);
    return positionsAlong(flat, t.shape, p.axis, reducedShape(t.shape, [p.axis], false));
  },
  jvp: () => null,
  vjp: () => [null],
  batch: ([x], _batched, p): Value => bind(argReduceP, [x!], { ...p, axis: p.axis + 1 }),
});

export const argReduce = (x: Value, p: ArgReduceParams): Value => bind(argReduceP, [x], p);
