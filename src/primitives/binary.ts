// Elementwise binary primitives with NumPy broadcasting, comparisons and `where`. Each is one
// record: its scalar expression (from which its kernel's loops, its scalar function and jit's
// fused loops are generated; src/kernels/scalar-expr.ts), the SIMD kernel that computes it
// exactly if one does, and its derivative rules. VJPs sum the cotangent back to each operand's
// shape (sumTo); JVPs broadcast tangents up to the output's shape (fit). Batching: operands
// aligned to one rank, then the operation itself (NumPy broadcasting does the rest).
import { definePrimitive, type Abstract, type MaybeValue, type Primitive } from "../../effects/primitive.ts";
import { bind, evaluatesNumbers } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { binaryKernel, binaryOp, ternaryOp, whereKernel, type BinaryOp } from "../kernels/elementwise.ts";
import { E, type Num } from "../kernels/scalar-expr.ts";
import type { WasmBinary } from "../kernels/wasm/elementwise-module.ts";
import { broadcastShapes, sameShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { floor, log, neg, sigmoid, square } from "./unary.ts";
import { sumTo } from "./reduce.ts";
import { broadcastTo } from "./shape.ts";
import { aligned } from "./batching.ts";
import { NUMBER, broadcastAbstract, resultDType, tensorOf } from "./abstract.ts";

/** An elementwise binary primitive, with its compiled kernel. */
export interface BinaryPrimitive extends Primitive {
  readonly kernel: BinaryOp;
}

export type Rules = Pick<Primitive, "jvp" | "vjp">;
export interface BinarySpec {
  readonly name: string;
  /** The value of one element, from the operands' elements a and b. */
  readonly expr: (a: Num, b: Num) => Num;
  /** The WebAssembly kernel that computes exactly `expr`, if one does. */
  readonly simd?: WasmBinary;
  /** Its derivative rules, written with primitives. */
  readonly rules: Rules;
}

/** Defines an elementwise binary primitive (NumPy broadcasting) from its expression, SIMD kernel and rules (the compiler requires the expression). */
export const defineBinary = (spec: BinarySpec): BinaryPrimitive => {
  const { name } = spec;
  const elementwise = { arity: 2, expr: spec.expr(E.operand(0), E.operand(1)), simd: spec.simd };
  const kernel = binaryOp(name, elementwise);
  const { rules } = spec;
  const p: BinaryPrimitive = Object.assign(definePrimitive({
    name,
    elementwise,
    impl: (args: readonly Value[]): Value => {
      const a = args[0]!;
      const b = args[1]!;
      return typeof a === "number" && typeof b === "number" ? kernel.scalar(a, b) : binaryKernel(kernel, a as Tensor | number, b as Tensor | number);
    },
    // the kernel's output shape and dtype, with its broadcasting error
    abstractEval: (args: readonly Abstract[]): Abstract => broadcastAbstract(name, args[0]!, args[1]!),
    jvp: rules.jvp,
    vjp: rules.vjp,
    batch: (values, batched): Value => aligned(p, values, batched, undefined),
  }), { kernel });
  return p;
};

/**
 * Rules from the two partial derivatives (each from a, b and the output, with primitives):
 * the JVP is ta·∂a + tb·∂b, the VJP ct·∂a and ct·∂b summed back to each operand's shape.
 */
export const partials = (da: (a: Value, b: Value, out: Value) => Value, db: (a: Value, b: Value, out: Value) => Value): Rules => ({
  jvp: ([a, b], [ta, tb], out) => {
    const t = plus(ta === null ? null : mul(ta!, da(a!, b!, out)), tb === null ? null : mul(tb!, db(a!, b!, out)));
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], out, _params, wanted) => [
    wanted[0] ? sumTo(mul(ct, da(a!, b!, out)), shapeOf(a!)) : null,
    wanted[1] ? sumTo(mul(ct, db(a!, b!, out)), shapeOf(b!)) : null,
  ],
});

/** Broadcasts a tangent up to the output's shape (a constant operand may have been smaller). */
export const fit = (t: Value, out: Value): Value => {
  const s = shapeOf(out);
  return sameShape(shapeOf(t), s) ? t : broadcastTo(t, s);
};

/** A tangent that may be zero, added to another. */
const plus = (a: MaybeValue, b: MaybeValue): MaybeValue => (a === null ? b : b === null ? a : add(a, b));

export const addP = defineBinary({
  name: "add",
  expr: (a, b) => E.add(a, b),
  simd: "add",
  rules: {
    jvp: (_p, [ta, tb], out) => {
      const t = plus(ta!, tb!);
      return t === null ? null : fit(t, out);
    },
    vjp: (ct, [a, b], _out, _params, wanted) => [
      wanted[0] ? sumTo(ct, shapeOf(a!)) : null,
      wanted[1] ? sumTo(ct, shapeOf(b!)) : null,
    ],
  },
});

export const subP = defineBinary({
  name: "sub",
  expr: (a, b) => E.sub(a, b),
  simd: "sub",
  rules: {
    jvp: (_p, [ta, tb], out) => {
      const t = tb === null ? ta! : ta === null ? neg(tb!) : sub(ta!, tb!);
      return t === null ? null : fit(t, out);
    },
    vjp: (ct, [a, b], _out, _params, wanted) => [
      wanted[0] ? sumTo(ct, shapeOf(a!)) : null,
      wanted[1] ? sumTo(neg(ct), shapeOf(b!)) : null,
    ],
  },
});

export const mulP = defineBinary({
  name: "mul",
  expr: (a, b) => E.mul(a, b),
  simd: "mul",
  rules: {
    jvp: ([a, b], [ta, tb], out) => {
      const t = plus(ta === null ? null : mul(ta!, b!), tb === null ? null : mul(a!, tb!));
      return t === null ? null : fit(t, out);
    },
    vjp: (ct, [a, b], _out, _params, wanted) => [
      wanted[0] ? sumTo(mul(ct, b!), shapeOf(a!)) : null,
      wanted[1] ? sumTo(mul(a!, ct), shapeOf(b!)) : null,
    ],
  },
});

export const divP = defineBinary({
  name: "div",
  expr: (a, b) => E.div(a, b),
  simd: "div",
  rules: {
    jvp: ([, b], [ta, tb], out) => {
      const t = plus(ta === null ? null : div(ta!, b!), tb === null ? null : neg(mul(tb!, div(out, b!))));
      return t === null ? null : fit(t, out);
    },
    vjp: (ct, [a, b], out, _params, wanted) => [
      wanted[0] ? sumTo(div(ct, b!), shapeOf(a!)) : null,
      wanted[1] ? sumTo(neg(mul(ct, div(out, b!))), shapeOf(b!)) : null,
    ],
  },
});

// d/da a^b = b·a^(b-1); d/db a^b = a^b·log a, taken as 0 where a <= 0 (log undefined; the
// power is then only defined for integer b, where the derivative in b does not exist).
// An exponent 0 gives the derivative 0 itself, not 0·a^(-1), which is NaN at a = 0: so x^n has
// every derivative finite at 0 (the (n+1)-th reaches exponent 0 and stops there) — for a
// number n, and for a tensor or traced one too (a jit argument, a batch under vmap), as JAX's
// select. Its price, as JAX's: differentiated in b exactly at b = 0, the mixed second
// derivative ∂²/∂a∂b is 1 rather than 1/a.
const dPowA = (a: Value, b: Value): Value => {
  if (typeof b === "number") return b === 0 ? 0 : mul(b, pow(a, b - 1));
  return mul(b, pow(a, sub(where(equal(b, 0), 1, b), 1)));
};
const dPowB = (a: Value, out: Value): Value => {
  const positive = greater(a, 0);
  return where(positive, mul(out, log(where(positive, a, 1))), 0);
};

export const powP = defineBinary({
  name: "pow",
  expr: (a, b) => E.math("pow", a, b),
  rules: partials((a, b) => dPowA(a, b), (a, _b, out) => dPowB(a, out)),
});

// maximum/minimum: the derivative goes to the larger (smaller) operand; ties split it evenly.
// (Math.max/min propagate NaN, like NumPy's maximum/minimum, and order −0 below +0.)
const selector = (first: Value, second: Value, better: (x: Value, y: Value) => Value): [Value, Value] => {
  const half = mul(0.5, equal(first, second));
  return [add(better(first, second), half), add(better(second, first), half)];
};
const extremumRules = (better: (x: Value, y: Value) => Value): Rules => ({
  jvp: ([a, b], [ta, tb], out) => {
    const [sa, sb] = selector(a!, b!, better);
    const t = plus(ta === null ? null : mul(ta!, sa), tb === null ? null : mul(tb!, sb));
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], _out, _params, wanted) => {
    const [sa, sb] = selector(a!, b!, better);
    return [wanted[0] ? sumTo(mul(ct, sa), shapeOf(a!)) : null, wanted[1] ? sumTo(mul(ct, sb), shapeOf(b!)) : null];
  },
});
export const maximumP = defineBinary({ name: "maximum", expr: (a, b) => E.math("max", a, b), simd: "maximum", rules: extremumRules((x, y) => greater(x, y)) });
export const minimumP = defineBinary({ name: "minimum", expr: (a, b) => E.math("min", a, b), simd: "minimum", rules: extremumRules((x, y) => less(x, y)) });

/** Comparisons give 0/1 and are piecewise constant: zero derivative at every order. */
const CONSTANT: Rules = { jvp: () => null, vjp: () => [null, null] };
export const greaterP = defineBinary({ name: "greater", expr: (a, b) => E.indicator(E.gt(a, b)), simd: "greater", rules: CONSTANT });
export const lessP = defineBinary({ name: "less", expr: (a, b) => E.indicator(E.lt(a, b)), simd: "less", rules: CONSTANT });
export const equalP = defineBinary({ name: "equal", expr: (a, b) => E.indicator(E.eq(a, b)), simd: "equal", rules: CONSTANT });
export const greaterEqualP = defineBinary({ name: "greaterEqual", expr: (a, b) => E.indicator(E.ge(a, b)), simd: "greaterEqual", rules: CONSTANT });
export const lessEqualP = defineBinary({ name: "lessEqual", expr: (a, b) => E.indicator(E.le(a, b)), simd: "lessEqual", rules: CONSTANT });

// Second-round binary operations
/** atan2(y, x): the angle of the point (x, y); ∂y = x/(x² + y²), ∂x = −y/(x² + y²). */
export const atan2P = defineBinary({
  name: "atan2",
  expr: (y, x) => E.math("atan2", y, x),
  rules: partials(
    (y, x) => div(x, add(square(x), square(y))),
    (y, x) => div(neg(y), add(square(x), square(y))),
  ),
});

/**
 * NumPy's floored remainder: the sign of b (a zero remainder too), NaN for b = 0. JS's % is
 * C's fmod (the sign of a, exact); a remainder of the other sign than b moves by b.
 * ∂a = 1, ∂b = −floor(a/b).
 */
export const modP = defineBinary({
  name: "mod",
  expr: (a, b) =>
    E.let(E.rem(a, b), (m) =>
      E.select(
        E.ne(m, 0),
        E.select(E.lt(m, 0), E.select(E.lt(b, 0), m, E.add(m, b)), E.select(E.lt(b, 0), E.add(m, b), m)),
        E.select(E.lt(b, 0), -0, 0),
      ),
    ),
  rules: partials(
    () => 1,
    (a, b) => neg(floor(div(a, b))),
  ),
});

/**
 * log(eᵃ + eᵇ) as NumPy's: the larger plus log1p(e^−|a − b|), exact for large operands; equal
 * operands (±Infinity included) give a + log 2. ∂a = σ(a − b), ∂b = σ(b − a), each ½ where a
 * and b are the same infinity.
 */
export const logaddexpP = defineBinary({
  name: "logaddexp",
  expr: (a, b) =>
    E.select(
      E.eq(a, b),
      E.add(a, Math.LN2),
      E.let(E.sub(a, b), (d) =>
        E.select(E.gt(d, 0), E.add(a, E.math("log1p", E.math("exp", E.neg(d)))), E.select(E.le(d, 0), E.add(b, E.math("log1p", E.math("exp", d))), d)),
      ),
    ),
  rules: partials(
    (a, b) => sigmoid(differenceOf(a, b)),
    (a, b) => sigmoid(differenceOf(b, a)),
  ),
});
/** a − b, with 0 where both are the same infinity (NaN stays NaN). */
const differenceOf = (a: Value, b: Value): Value => {
  const d = sub(a, b);
  return where(equal(d, d), d, where(equal(a, b), 0, d));
};

/** √(a² + b²) without overflow or underflow (Math.hypot scales); ∂a = a/out, ∂b = b/out (0 at the origin). */
export const hypotP = defineBinary({
  name: "hypot",
  expr: (a, b) => E.math("hypot", a, b),
  rules: partials(
    (a, _b, out) => div(a, where(equal(out, 0), 1, out)),
    (_a, b, out) => div(b, where(equal(out, 0), 1, out)),
  ),
});

/** where(cond, a, b): cond ≠ 0 (NaN included) picks a. cond is not differentiated; a and b get the cotangent where chosen. */
const selection = { arity: 3, expr: E.select(E.ne(E.operand(0), 0), E.operand(1), E.operand(2)), simd: "where" } as const;
const selectionKernel = ternaryOp(selection);
export const whereP = definePrimitive({
  name: "where",
  elementwise: selection,
  impl: (args) => {
    const [c, a, b] = args as [Value, Value, Value];
    if (typeof c === "number" && typeof a === "number" && typeof b === "number") return selectionKernel.scalar(c, a, b);
    return whereKernel(selectionKernel, c as Tensor | number, a as Tensor | number, b as Tensor | number);
  },
  abstractEval: ([c, a, b]) =>
    c!.scalar && a!.scalar && b!.scalar
      ? NUMBER
      : tensorOf(broadcastShapes("where", broadcastShapes("where", c!.shape, a!.shape), b!.shape), resultDType(a!, b!)),
  jvp: ([c], [, ta, tb], out) => (ta === null && tb === null ? null : fit(where(c!, ta ?? 0, tb ?? 0), out)),
  vjp: (ct, [c, a, b], _out, _params, wanted) => [
    null,
    wanted[1] ? sumTo(where(c!, ct, 0), shapeOf(a!)) : null,
    wanted[2] ? sumTo(where(c!, 0, ct), shapeOf(b!)) : null,
  ],
  batch: (values, batched): Value => aligned(whereP, values, batched, undefined),
});

// Direct-style calls; plain numbers with nothing staging are computed in place (see unary.ts).
const call2 = (p: BinaryPrimitive) => {
  const scalar = p.kernel.scalar;
  return (a: Value, b: Value): Value =>
    typeof a === "number" && typeof b === "number" && evaluatesNumbers() ? scalar(a, b) : bind(p, [a, b], undefined);
};
export const add = call2(addP);
export const sub = call2(subP);
export const mul = call2(mulP);
export const div = call2(divP);
export const pow = call2(powP);
export const maximum = call2(maximumP);
export const minimum = call2(minimumP);
export const greater = call2(greaterP);
export const less = call2(lessP);
export const equal = call2(equalP);
export const greaterEqual = call2(greaterEqualP);
export const lessEqual = call2(lessEqualP);
export const where = (c: Value, a: Value, b: Value): Value => bind(whereP, [c, a, b], undefined);
/** where's compiled kernel (for the kernel tests). */
export const whereOp = selectionKernel;
