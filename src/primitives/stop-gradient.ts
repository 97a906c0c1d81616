// stopGradient: the identity whose derivative is zero at every order. Each handler passes the
// operand's primal down and gives back a constant.
import { definePrimitive } from "../../effects/primitive.ts";
import { bind } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { sameOp } from "./batching.ts";
import { IDENTITY } from "../kernels/scalar-expr.ts";

export const stopGradientP = definePrimitive({
  name: "stopGradient",
  capabilities: { aliasesOperand: true },
  elementwise: IDENTITY,
  abstractEval: ([x]) => x!,
  impl: (args) => args[0]!,
  jvp: () => null,
  vjp: () => [null],
  batch: (values): Value => sameOp(stopGradientP, values, undefined),
});

export const stopGradient = (x: Value): Value => bind(stopGradientP, [x], undefined);
