// Elementwise binary primitives with NumPy broadcasting, comparisons and `where`.
// VJPs sum the cotangent back to each operand's shape (sumTo); JVPs broadcast tangents up to
// the output's shape (fit).
import { definePrimitive, type Abstract, type MaybeValue, type Primitive } from "../../effects/primitive.ts";
import { bind, evaluatesNumbers } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { binaryKernel, binaryScalar, whereKernel, type BinaryName } from "../kernels/elementwise.ts";
import { broadcastShapes, sameShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { log, neg } from "./unary.ts";
import { sumTo } from "./reduce.ts";
import { broadcastTo } from "./shape.ts";
import { aligned } from "./batching.ts";
import { NUMBER, broadcastAbstract, resultDType, tensorOf } from "./abstract.ts";

const kernel = (name: BinaryName) => (args: readonly Value[]): Value => {
  const a = args[0]!;
  const b = args[1]!;
  return typeof a === "number" && typeof b === "number"
    ? binaryScalar[name](a, b)
    : binaryKernel(name, a as Tensor | number, b as Tensor | number);
};
/** The kernel's output shape and dtype, with its broadcasting error. */
const shaped = (name: BinaryName) => (args: readonly Abstract[]): Abstract => broadcastAbstract(name, args[0]!, args[1]!);

/** Broadcasts a tangent up to the output's shape (a constant operand may have been smaller). */
export const fit = (t: Value, out: Value): Value => {
  const s = shapeOf(out);
  return sameShape(shapeOf(t), s) ? t : broadcastTo(t, s);
};

/** A tangent that may be zero, added to another. */
const plus = (a: MaybeValue, b: MaybeValue): MaybeValue => (a === null ? b : b === null ? a : add(a, b));

export const addP = definePrimitive({
  name: "add",
  impl: kernel("add"),
  abstractEval: shaped("add"),
  jvp: (_p, [ta, tb], out) => {
    const t = plus(ta!, tb!);
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], _out, _params, wanted) => [
    wanted[0] ? sumTo(ct, shapeOf(a!)) : null,
    wanted[1] ? sumTo(ct, shapeOf(b!)) : null,
  ],
  batch: (values, batched): Value => aligned(addP, values, batched, undefined),
});

export const subP = definePrimitive({
  name: "sub",
  impl: kernel("sub"),
  abstractEval: shaped("sub"),
  jvp: (_p, [ta, tb], out) => {
    const t = tb === null ? ta! : ta === null ? neg(tb!) : sub(ta!, tb!);
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], _out, _params, wanted) => [
    wanted[0] ? sumTo(ct, shapeOf(a!)) : null,
    wanted[1] ? sumTo(neg(ct), shapeOf(b!)) : null,
  ],
  batch: (values, batched): Value => aligned(subP, values, batched, undefined),
});

export const mulP = definePrimitive({
  name: "mul",
  impl: kernel("mul"),
  abstractEval: shaped("mul"),
  jvp: ([a, b], [ta, tb], out) => {
    const t = plus(ta === null ? null : mul(ta!, b!), tb === null ? null : mul(a!, tb!));
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], _out, _params, wanted) => [
    wanted[0] ? sumTo(mul(ct, b!), shapeOf(a!)) : null,
    wanted[1] ? sumTo(mul(a!, ct), shapeOf(b!)) : null,
  ],
  batch: (values, batched): Value => aligned(mulP, values, batched, undefined),
});

export const divP = definePrimitive({
  name: "div",
  impl: kernel("div"),
  abstractEval: shaped("div"),
  jvp: ([, b], [ta, tb], out) => {
    const t = plus(ta === null ? null : div(ta!, b!), tb === null ? null : neg(mul(tb!, div(out, b!))));
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], out, _params, wanted) => [
    wanted[0] ? sumTo(div(ct, b!), shapeOf(a!)) : null,
    wanted[1] ? sumTo(neg(mul(ct, div(out, b!))), shapeOf(b!)) : null,
  ],
  batch: (values, batched): Value => aligned(divP, values, batched, undefined),
});

// d/da a^b = b·a^(b-1); d/db a^b = a^b·log a, taken as 0 where a <= 0 (log undefined; the
// power is then only defined for integer b, where the derivative in b does not exist).
// A constant exponent 0 gives the derivative 0 itself, not 0·a^(-1), which is NaN at a = 0:
// so x^n has every derivative finite at 0 (the (n+1)-th reaches exponent 0 and stops there).
// Only a constant: for a differentiated b the formula must stay the one in b too.
const dPowA = (a: Value, b: Value): Value => {
  if (typeof b === "number") return b === 0 ? 0 : mul(b, pow(a, b - 1));
  if (b instanceof Tensor) {
    const zero = equal(b, 0);
    return mul(b, pow(a, sub(where(zero, 1, b), 1)));
  }
  return mul(b, pow(a, sub(b, 1)));
};
const dPowB = (a: Value, out: Value): Value => {
  const positive = greater(a, 0);
  return where(positive, mul(out, log(where(positive, a, 1))), 0);
};

export const powP = definePrimitive({
  name: "pow",
  impl: kernel("pow"),
  abstractEval: shaped("pow"),
  jvp: ([a, b], [ta, tb], out) => {
    const t = plus(ta === null ? null : mul(ta!, dPowA(a!, b!)), tb === null ? null : mul(tb!, dPowB(a!, out)));
    return t === null ? null : fit(t, out);
  },
  vjp: (ct, [a, b], out, _params, wanted) => [
    wanted[0] ? sumTo(mul(ct, dPowA(a!, b!)), shapeOf(a!)) : null,
    wanted[1] ? sumTo(mul(ct, dPowB(a!, out)), shapeOf(b!)) : null,
  ],
  batch: (values, batched): Value => aligned(powP, values, batched, undefined),
});

// maximum/minimum: the derivative goes to the larger (smaller) operand; ties split it evenly.
const selector = (first: Value, second: Value, better: (x: Value, y: Value) => Value): [Value, Value] => {
  const half = mul(0.5, equal(first, second));
  return [add(better(first, second), half), add(better(second, first), half)];
};
const extremum = (name: "maximum" | "minimum", better: (x: Value, y: Value) => Value): Primitive => {
  const p: Primitive = definePrimitive({
    name,
    impl: kernel(name),
    abstractEval: shaped(name),
    jvp: ([a, b], [ta, tb], out) => {
      const [sa, sb] = selector(a!, b!, better);
      const t = plus(ta === null ? null : mul(ta!, sa), tb === null ? null : mul(tb!, sb));
      return t === null ? null : fit(t, out);
    },
    vjp: (ct, [a, b], _out, _params, wanted) => {
      const [sa, sb] = selector(a!, b!, better);
      return [wanted[0] ? sumTo(mul(ct, sa), shapeOf(a!)) : null, wanted[1] ? sumTo(mul(ct, sb), shapeOf(b!)) : null];
    },
    batch: (values, batched): Value => aligned(p, values, batched, undefined),
  });
  return p;
};
export const maximumP = extremum("maximum", (x, y) => greater(x, y));
export const minimumP = extremum("minimum", (x, y) => less(x, y));

/** Comparisons give 0/1 and are piecewise constant: zero derivative at every order. */
const comparison = (name: BinaryName): Primitive => {
  const p: Primitive = definePrimitive({
    name,
    impl: kernel(name),
    abstractEval: shaped(name),
    jvp: () => null,
    vjp: () => [null, null],
    batch: (values, batched): Value => aligned(p, values, batched, undefined),
  });
  return p;
};
export const greaterP = comparison("greater");
export const lessP = comparison("less");
export const equalP = comparison("equal");
export const greaterEqualP = comparison("greaterEqual");
export const lessEqualP = comparison("lessEqual");

/** where(cond, a, b): cond is not differentiated; a and b get the cotangent where chosen. */
export const whereP = definePrimitive({
  name: "where",
  impl: (args) => {
    const [c, a, b] = args as [Value, Value, Value];
    if (typeof c === "number" && typeof a === "number" && typeof b === "number") return c !== 0 ? a : b;
    return whereKernel(c as Tensor | number, a as Tensor | number, b as Tensor | number);
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
const call2 =
  (p: Primitive, scalar: (a: number, b: number) => number) =>
  (a: Value, b: Value): Value =>
    typeof a === "number" && typeof b === "number" && evaluatesNumbers() ? scalar(a, b) : bind(p, [a, b], undefined);
export const add = call2(addP, binaryScalar.add);
export const sub = call2(subP, binaryScalar.sub);
export const mul = call2(mulP, binaryScalar.mul);
export const div = call2(divP, binaryScalar.div);
export const pow = call2(powP, binaryScalar.pow);
export const maximum = call2(maximumP, binaryScalar.maximum);
export const minimum = call2(minimumP, binaryScalar.minimum);
export const greater = call2(greaterP, binaryScalar.greater);
export const less = call2(lessP, binaryScalar.less);
export const equal = call2(equalP, binaryScalar.equal);
export const greaterEqual = call2(greaterEqualP, binaryScalar.greaterEqual);
export const lessEqual = call2(lessEqualP, binaryScalar.lessEqual);
export const where = (c: Value, a: Value, b: Value): Value => bind(whereP, [c, a, b], undefined);
