// Elementwise unary primitives. Each is its kernel plus one derivative expression d(x, out);
// the JVP is t·d and the VJP is ct·d, both built from primitives so they differentiate again.
import { definePrimitive, type Primitive } from "../../effects/primitive.ts";
import { bind, evaluatesNumbers } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { unaryKernel, unaryScalar, type UnaryName } from "../kernels/elementwise.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { add, div, greater, mul, sub } from "./binary.ts";
import { aligned } from "./batching.ts";

const unary = (name: UnaryName, derivative: ((x: Value, out: Value) => Value) | null): Primitive => {
  const p: Primitive = definePrimitive({
    name,
    abstractEval: ([x]) => x!, // same shape, dtype and number-ness
    impl: (args) => {
      const x = args[0]!;
      return typeof x === "number" ? unaryScalar[name](x) : unaryKernel(name, x as Tensor);
    },
    jvp: (primals, tangents, out) => {
      const t = tangents[0]!;
      return t === null || derivative === null ? null : mul(t, derivative(primals[0]!, out));
    },
    vjp: (ct, primals, out) => [derivative === null ? null : mul(ct, derivative(primals[0]!, out))],
    batch: (values, batched): Value => aligned(p, values, batched, undefined),
  });
  return p;
};

// neg is linear: its rules negate instead of multiplying by -1.
export const negP = definePrimitive({
  name: "neg",
  abstractEval: ([x]) => x!,
  impl: (args) => {
    const x = args[0]!;
    return typeof x === "number" ? -x : unaryKernel("neg", x as Tensor);
  },
  jvp: (_p, tangents) => (tangents[0] === null ? null : neg(tangents[0]!)),
  vjp: (ct) => [neg(ct)],
  batch: (values, batched): Value => aligned(negP, values, batched, undefined),
});

export const expP = unary("exp", (_x, out) => out);
export const logP = unary("log", (x) => div(1, x));
export const log1pP = unary("log1p", (x) => div(1, add(1, x)));
export const expm1P = unary("expm1", (_x, out) => add(out, 1));
export const sinP = unary("sin", (x) => cos(x));
export const cosP = unary("cos", (x) => neg(sin(x)));
export const tanP = unary("tan", (_x, out) => add(1, square(out)));
export const tanhP = unary("tanh", (_x, out) => sub(1, square(out)));
export const sigmoidP = unary("sigmoid", (_x, out) => mul(out, sub(1, out)));
export const reluP = unary("relu", (x) => greater(x, 0));
export const sqrtP = unary("sqrt", (_x, out) => div(0.5, out));
export const squareP = unary("square", (x) => mul(2, x));
export const absP = unary("abs", (x) => sign(x));
/** sign is piecewise constant: derivative zero (and 0 at 0). */
export const signP = unary("sign", null);

// Direct-style calls. On a plain number with nothing staging, compute the kernel in place (what
// evaluation would do) — derivative rules on scalars then run without dispatch.
const call =
  (p: Primitive, scalar: (x: number) => number) =>
  (x: Value): Value =>
    typeof x === "number" && evaluatesNumbers() ? scalar(x) : bind(p, [x], undefined);
export const neg = call(negP, unaryScalar.neg);
export const exp = call(expP, unaryScalar.exp);
export const log = call(logP, unaryScalar.log);
export const log1p = call(log1pP, unaryScalar.log1p);
export const expm1 = call(expm1P, unaryScalar.expm1);
export const sin = call(sinP, unaryScalar.sin);
export const cos = call(cosP, unaryScalar.cos);
export const tan = call(tanP, unaryScalar.tan);
export const tanh = call(tanhP, unaryScalar.tanh);
export const sigmoid = call(sigmoidP, unaryScalar.sigmoid);
export const relu = call(reluP, unaryScalar.relu);
export const sqrt = call(sqrtP, unaryScalar.sqrt);
export const square = call(squareP, unaryScalar.square);
export const abs = call(absP, unaryScalar.abs);
export const sign = call(signP, unaryScalar.sign);
