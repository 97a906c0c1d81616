// The second round's reductions in direct style: user input checked, then primitives bound
// (prod, cumsum, cumprod, argmax/argmin) or composed (variance, std). Derivative rules and the
// effects of ops.ts call these.
import { shapeOf, type Value } from "../effects/value.ts";
import { ShapeError, ValueError, fmt, show } from "./errors.ts";
import { checkOperand } from "./lax.ts";
import { checkOptions } from "./options.ts";
import * as A from "./primitives/arg-reduce.ts";
import * as B from "./primitives/binary.ts";
import * as R from "./primitives/reduce.ts";
import * as SR from "./primitives/scan-reduce.ts";
import * as S from "./primitives/shape.ts";
import { sqrt } from "./primitives/unary.ts";
import { normalizeAxes, normalizeAxis, sizeOf } from "./tensor/shape.ts";

type Axis = number | readonly number[];

/** Options of `variance` and `std`. */
export interface VarianceOptions {
  /** "Delta degrees of freedom": the sum of squares is divided by N − ddof (default 0; 1 gives the unbiased estimate). */
  ddof?: number;
}

const reduceParams = (op: string, x: Value, axis: Axis | undefined, keepdims: boolean): R.ReduceParams => ({
  axes: normalizeAxes(op, axis, shapeOf(x).length),
  keepdims: keepdims === true,
});

export const prod = (x: Value, axis?: Axis, keepdims = false): Value => {
  checkOperand("prod", x);
  const p = reduceParams("prod", x, axis, keepdims);
  return p.axes.length === 0 && !p.keepdims && typeof x === "number" ? x : SR.prod(x, p);
};

const moments = (op: string, x: Value, axis: Axis | undefined, keepdims: boolean, options: VarianceOptions | undefined): Value => {
  checkOperand(op, x);
  checkOptions(op, options, { ddof: "number" });
  const ddof = options?.ddof ?? 0;
  if (!(ddof >= 0) || !Number.isFinite(ddof)) throw new ValueError(`${op}: ddof must be a finite number ≥ 0, got ${show(ddof)}`);
  const p = reduceParams(op, x, axis, keepdims);
  const xs = shapeOf(x);
  const count = p.axes.reduce((n, a) => n * xs[a]!, 1);
  if (count === 0) throw new ShapeError(`${op}: reducing ${fmt(xs)} over axes [${p.axes.join(", ")}] averages zero elements`);
  if (count - ddof <= 0)
    throw new ValueError(
      `${op}: ddof ${ddof} leaves no degrees of freedom: each reduced slice of ${fmt(xs)} holds ${count} element${count === 1 ? "" : "s"}, ` +
        `and the sum of squares is divided by ${count} − ${ddof}; use a smaller ddof or reduce over more elements`,
    );
  const centered = B.sub(x, B.div(R.sum(x, { axes: p.axes, keepdims: true }), count));
  return B.div(R.sum(B.mul(centered, centered), p), count - ddof);
};

/** Σ (x − mean)² / (N − ddof) over axes. */
export const variance = (x: Value, axis?: Axis, keepdims = false, options?: VarianceOptions): Value =>
  moments("variance", x, axis, keepdims, options);

/** √variance; where the variance is 0 its derivative is NaN (0 · ∞), as in JAX. */
export const std = (x: Value, axis?: Axis, keepdims = false, options?: VarianceOptions): Value =>
  sqrt(moments("std", x, axis, keepdims, options));

/** Over `axis`, or over the flattened operand when no axis is given (as NumPy). */
const arg = (kind: "max" | "min") => (x: Value, axis?: number): Value => {
  const op = `arg${kind}`;
  checkOperand(op, x);
  if (axis !== undefined && typeof axis !== "number")
    throw new ValueError(`${op}: axis must be one integer (or left out to search the flattened operand), got ${show(axis)}`);
  const xs = shapeOf(x);
  if (axis === undefined) {
    if (sizeOf(xs) === 0) throw new ValueError(`${op}: the operand ${fmt(xs)} has no elements; ${op} of nothing is undefined`);
    return A.argReduce(S.reshape(typeof x === "number" ? S.asTensor(x) : x, [sizeOf(xs)]), { kind, axis: 0 });
  }
  return A.argReduce(x, { kind, axis: normalizeAxis(op, axis, xs.length) });
};
export const argmax = arg("max");
export const argmin = arg("min");

const cumulative = (op: "cumsum" | "cumprod") => (x: Value, axis = -1): Value => {
  checkOperand(op, x);
  const xs = shapeOf(x);
  if (xs.length === 0) throw new ShapeError(`${op}: the operand is 0-d (a scalar) and has no axis to accumulate along; reshape it to [1] first`);
  const p = { axis: normalizeAxis(op, axis, xs.length), reverse: false };
  return op === "cumsum" ? SR.cumsum(x, p) : SR.cumprod(x, p);
};
export const cumsum = cumulative("cumsum");
export const cumprod = cumulative("cumprod");
