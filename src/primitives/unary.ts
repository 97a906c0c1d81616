// Elementwise unary primitives. Each is one record: its scalar expression (from which its
// kernel's loop, its scalar function and jit's fused loops are generated; src/kernels/
// scalar-expr.ts), the SIMD kernel that computes it exactly if one does, and one derivative
// d(x, out) — the JVP is t·d and the VJP ct·d, both built from primitives so they differentiate
// again (null: zero derivative, at every order). Batching: an elementwise operation of a
// stacked batch is itself.
import { definePrimitive, type Primitive } from "../../effects/primitive.ts";
import { bind, evaluatesNumbers } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import { unaryKernel, unaryOp, type UnaryOp } from "../kernels/elementwise.ts";
import { E, type Num } from "../kernels/scalar-expr.ts";
import * as special from "../kernels/special.ts";
import type { WasmUnary } from "../kernels/wasm/elementwise-module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { add, div, greater, mul, sub } from "./binary.ts";
import { aligned } from "./batching.ts";

/** An elementwise unary primitive, with its compiled kernel. */
export interface UnaryPrimitive extends Primitive {
  readonly kernel: UnaryOp;
}

export interface UnarySpec {
  readonly name: string;
  /** The value of one element, from the operand's element x. */
  readonly expr: (x: Num) => Num;
  /** The WebAssembly kernel that computes exactly `expr`, if one does. */
  readonly simd?: WasmUnary;
  /** d out / d x from x and out, with primitives; null: piecewise constant (zero derivative). */
  readonly derivative: ((x: Value, out: Value) => Value) | null;
  /** A linear operation's rules, applied to the tangent and cotangent directly. */
  readonly linear?: { readonly jvp: (t: Value) => Value; readonly vjp: (ct: Value) => Value };
}

/** Defines an elementwise unary primitive from its expression, SIMD kernel and derivative (the compiler requires the expression). */
export const defineUnary = (spec: UnarySpec): UnaryPrimitive => {
  const { name, derivative } = spec;
  const elementwise = { arity: 1, expr: spec.expr(E.operand(0)), simd: spec.simd };
  const kernel = unaryOp(elementwise);
  const linear = spec.linear;
  const p: UnaryPrimitive = Object.assign(definePrimitive({
    name,
    elementwise,
    abstractEval: ([x]) => x!, // same shape, dtype and number-ness
    impl: (args) => {
      const x = args[0]!;
      return typeof x === "number" ? kernel.scalar(x) : unaryKernel(kernel, x as Tensor);
    },
    jvp: (primals, tangents, out) => {
      const t = tangents[0]!;
      if (t === null || derivative === null) return null;
      return linear ? linear.jvp(t) : mul(t, derivative(primals[0]!, out));
    },
    vjp: (ct, primals, out) => [derivative === null ? null : linear ? linear.vjp(ct) : mul(ct, derivative(primals[0]!, out))],
    batch: (values, batched): Value => aligned(p, values, batched, undefined),
  }), { kernel });
  return p;
};

/** The logistic sigmoid of x as an expression: exp of −|x| only, so it never overflows, and e/(1+e) keeps tiny values exact. */
const logistic = (x: Num): Num =>
  E.let(E.math("exp", E.neg(E.math("abs", x))), (e) => E.select(E.ge(x, 0), E.div(1, E.add(1, e)), E.div(e, E.add(1, e))));

// neg is linear: its rules negate instead of multiplying by −1.
export const negP = defineUnary({
  name: "neg",
  expr: (x) => E.neg(x),
  simd: "neg",
  derivative: () => -1,
  linear: { jvp: (t) => neg(t), vjp: (ct) => neg(ct) },
});

const LN2 = Math.LN2;
const LN10 = Math.LN10;
const SQRT_PI = Math.sqrt(Math.PI);
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const expP = defineUnary({ name: "exp", expr: (x) => E.math("exp", x), derivative: (_x, out) => out });
export const logP = defineUnary({ name: "log", expr: (x) => E.math("log", x), derivative: (x) => div(1, x) });
export const log1pP = defineUnary({ name: "log1p", expr: (x) => E.math("log1p", x), derivative: (x) => div(1, add(1, x)) });
export const expm1P = defineUnary({ name: "expm1", expr: (x) => E.math("expm1", x), derivative: (_x, out) => add(out, 1) });
export const sinP = defineUnary({ name: "sin", expr: (x) => E.math("sin", x), derivative: (x) => cos(x) });
export const cosP = defineUnary({ name: "cos", expr: (x) => E.math("cos", x), derivative: (x) => neg(sin(x)) });
export const tanP = defineUnary({ name: "tan", expr: (x) => E.math("tan", x), derivative: (_x, out) => add(1, square(out)) });
export const tanhP = defineUnary({ name: "tanh", expr: (x) => E.math("tanh", x), derivative: (_x, out) => sub(1, square(out)) });
export const sigmoidP = defineUnary({ name: "sigmoid", expr: logistic, derivative: (_x, out) => mul(out, sub(1, out)) });
// (NaN and −0 give +0, as the SIMD kernel)
export const reluP = defineUnary({ name: "relu", expr: (x) => E.select(E.gt(x, 0), x, 0), simd: "relu", derivative: (x) => greater(x, 0) });
export const sqrtP = defineUnary({ name: "sqrt", expr: (x) => E.math("sqrt", x), simd: "sqrt", derivative: (_x, out) => div(0.5, out) });
export const squareP = defineUnary({ name: "square", expr: (x) => E.mul(x, x), simd: "square", derivative: (x) => mul(2, x) });
export const absP = defineUnary({ name: "abs", expr: (x) => E.math("abs", x), simd: "abs", derivative: (x) => sign(x) });
/** sign is piecewise constant: derivative zero (and 0 at 0); ±0 give +0, NaN stays. */
export const signP = defineUnary({
  name: "sign",
  expr: (x) => E.select(E.gt(x, 0), 1, E.select(E.lt(x, 0), -1, E.select(E.eq(x, 0), 0, x))),
  simd: "sign",
  derivative: null,
});

// Inverse trigonometric and hyperbolic functions (Math's; NaN outside their domains, ±Infinity at poles, as NumPy).
export const asinP = defineUnary({ name: "asin", expr: (x) => E.math("asin", x), derivative: (x) => div(1, sqrt(sub(1, square(x)))) });
export const acosP = defineUnary({ name: "acos", expr: (x) => E.math("acos", x), derivative: (x) => div(-1, sqrt(sub(1, square(x)))) });
export const atanP = defineUnary({ name: "atan", expr: (x) => E.math("atan", x), derivative: (x) => div(1, add(1, square(x))) });
export const sinhP = defineUnary({ name: "sinh", expr: (x) => E.math("sinh", x), derivative: (x) => cosh(x) });
export const coshP = defineUnary({ name: "cosh", expr: (x) => E.math("cosh", x), derivative: (x) => sinh(x) });
export const asinhP = defineUnary({ name: "asinh", expr: (x) => E.math("asinh", x), derivative: (x) => div(1, sqrt(add(square(x), 1))) });
// 1/√(x² − 1) as 1/(√(x − 1)·√(x + 1)): no cancellation near 1
export const acoshP = defineUnary({ name: "acosh", expr: (x) => E.math("acosh", x), derivative: (x) => div(1, mul(sqrt(sub(x, 1)), sqrt(add(x, 1)))) });
export const atanhP = defineUnary({ name: "atanh", expr: (x) => E.math("atanh", x), derivative: (x) => div(1, sub(1, square(x))) });
// Other bases, cube root
export const log2P = defineUnary({ name: "log2", expr: (x) => E.math("log2", x), derivative: (x) => div(1 / LN2, x) });
export const log10P = defineUnary({ name: "log10", expr: (x) => E.math("log10", x), derivative: (x) => div(1 / LN10, x) });
export const exp2P = defineUnary({ name: "exp2", expr: (x) => E.math("pow", 2, x), derivative: (_x, out) => mul(LN2, out) });
export const cbrtP = defineUnary({ name: "cbrt", expr: (x) => E.math("cbrt", x), derivative: (_x, out) => div(1 / 3, square(out)) });
// The error function and its relatives (src/kernels/special.ts)
export const erfP = defineUnary({ name: "erf", expr: (x) => E.call(special.erf, x), derivative: (x) => mul(2 / SQRT_PI, exp(neg(square(x)))) });
export const erfcP = defineUnary({ name: "erfc", expr: (x) => E.call(special.erfc, x), derivative: (x) => mul(-2 / SQRT_PI, exp(neg(square(x)))) });
export const erfinvP = defineUnary({ name: "erfinv", expr: (x) => E.call(special.erfinv, x), derivative: (_x, out) => mul(SQRT_PI / 2, exp(square(out))) });
// Rounding: piecewise constant, zero derivative
export const floorP = defineUnary({ name: "floor", expr: (x) => E.math("floor", x), derivative: null });
export const ceilP = defineUnary({ name: "ceil", expr: (x) => E.math("ceil", x), derivative: null });
export const truncP = defineUnary({ name: "trunc", expr: (x) => E.math("trunc", x), derivative: null });
/** Half to even (NumPy's rint): Math.round takes halves up, so a tie rounded up to an odd number goes back down. */
export const roundP = defineUnary({
  name: "round",
  expr: (x) => E.let(E.math("round", x), (r) => E.select(E.and(E.eq(E.sub(r, x), 0.5), E.ne(E.rem(r, 2), 0)), E.sub(r, 1), r)),
  derivative: null,
});
// Activations
/** log(1 + eˣ) as max(x, 0) + log1p(e^−|x|): exp of non-positive numbers only, exact for large |x|. */
export const softplusP = defineUnary({
  name: "softplus",
  expr: (x) => E.add(E.select(E.gt(x, 0), x, 0), E.math("log1p", E.math("exp", E.neg(E.math("abs", x))))),
  derivative: (x) => sigmoid(x),
});
/** x·σ(x), σ in its stable form. */
export const siluP = defineUnary({
  name: "silu",
  expr: (x) => E.mul(x, logistic(x)),
  derivative: (x) => {
    const s = sigmoid(x);
    return mul(s, add(1, mul(x, sub(1, s))));
  },
});
/** x·Φ(x), Φ the standard normal CDF as erfc(−x/√2)/2: no cancellation for large negative x. */
export const geluP = defineUnary({
  name: "gelu",
  expr: (x) => E.mul(E.mul(x, 0.5), E.call(special.erfc, E.mul(x, -SQRT1_2))),
  derivative: (x) => add(mul(0.5, erfc(mul(x, -SQRT1_2))), mul(x, mul(INV_SQRT_2PI, exp(mul(-0.5, square(x)))))),
});

// Direct-style calls. On a plain number with nothing staging, compute the kernel in place (what
// evaluation would do) — derivative rules on scalars then run without dispatch.
const call = (p: UnaryPrimitive) => {
  const scalar = p.kernel.scalar;
  return (x: Value): Value => (typeof x === "number" && evaluatesNumbers() ? scalar(x) : bind(p, [x], undefined));
};
export const neg = call(negP);
export const exp = call(expP);
export const log = call(logP);
export const log1p = call(log1pP);
export const expm1 = call(expm1P);
export const sin = call(sinP);
export const cos = call(cosP);
export const tan = call(tanP);
export const tanh = call(tanhP);
export const sigmoid = call(sigmoidP);
export const relu = call(reluP);
export const sqrt = call(sqrtP);
export const square = call(squareP);
export const abs = call(absP);
export const sign = call(signP);
export const sinh = call(sinhP);
export const cosh = call(coshP);
export const erfc = call(erfcP);
export const floor = call(floorP);
