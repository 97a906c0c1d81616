// cast: the same values in another dtype (gradients take their argument's dtype with it).
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import { dtypeOf, type Value } from "../../effects/value.ts";
import { castKernel } from "../kernels/elementwise.ts";
import { IDENTITY } from "../kernels/scalar-expr.ts";
import { tensorOf } from "./abstract.ts";
import { sameOp } from "./batching.ts";
import type { DType, Tensor } from "../tensor/tensor.ts";

export const castP = definePrimitive<{ dtype: DType }>({
  name: "cast",
  elementwise: IDENTITY, // (the loop stores in the result's dtype)
  abstractEval: ([x], p) => (x!.scalar ? x! : tensorOf(x!.shape, p.dtype)),
  impl: (args, p) => {
    const x = args[0]!;
    return typeof x === "number" ? x : castKernel(x as Tensor, p.dtype);
  },
  jvp: (_p, [t], _out, p) => (t === null ? null : cast(t!, p.dtype)),
  vjp: (ct, [x]) => [cast(ct, dtypeOf(x!))],
  batch: (values, _batched, p): Value => sameOp(castP, values, p),
});

/** `x` in `dtype` (itself when it already is; numbers are untyped and stay numbers). */
export const cast = (x: Value, dtype: DType): Value =>
  typeof x === "number" || dtypeOf(x) === dtype ? x : bind(castP, [x], { dtype });
