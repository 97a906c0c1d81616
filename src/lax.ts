// The operations in direct style: validate user input, then bind primitives or compose them.
// Derivative rules, composite operations and the effect wrappers in ops.ts all call these, so
// every path is seen by every handler on the stack.
import { Traced, shapeOf, type Value } from "../effects/value.ts";
import { evaluatesNumbers } from "../effects/trace.ts";
import * as Sel from "./primitives/select.ts";
import { DTypeError, EffectError, ShapeError, ValueError, fmt, show } from "./errors.ts";
import { checkOperand } from "./misuse.ts";

export { checkOperand };
import { checkOptions, type OptionSpec } from "./options.ts";
import { maxKernel, minKernel } from "./kernels/reduce.ts";
import { checkConv, checkConvTranspose } from "./kernels/conv-spec.ts";
import { checkPool2d, maxPool2dKernel } from "./kernels/pool.ts";
import { checkIndices, checkPerm, checkSlice } from "./kernels/shape-ops.ts";
import { broadcastShapes, checkShape, normalizeAxes, normalizeAxis, sizeOf } from "./tensor/shape.ts";
import { Tensor } from "./tensor/tensor.ts";
import { exp } from "./primitives/unary.ts";
import * as B from "./primitives/binary.ts";
import * as C from "./primitives/conv.ts";
import * as M from "./primitives/matmul.ts";
import * as R from "./primitives/reduce.ts";
import * as S from "./primitives/shape.ts";
import * as D from "./primitives/dynamic-index.ts";
import { heldOnDevice, knownIndices, stackIndices, takeByMask } from "./staged-indices.ts";
import { takeByIndex } from "./primitives/take-by-index.ts";

export * from "./primitives/unary.ts";
export { add, sub, mul, div, pow, maximum, minimum, greater, less, equal, greaterEqual, lessEqual } from "./primitives/binary.ts";
export { stopGradient } from "./primitives/stop-gradient.ts";
export { sumTo } from "./primitives/reduce.ts";

const reduceParams = (op: string, x: Value, axis: number | readonly number[] | undefined, keepdims: boolean): R.ReduceParams => ({
  axes: normalizeAxes(op, axis, shapeOf(x).length),
  keepdims: keepdims === true,
});

export const sum = (x: Value, axis?: number | readonly number[], keepdims = false): Value => {
  checkOperand("sum", x);
  const p = reduceParams("sum", x, axis, keepdims);
  return p.axes.length === 0 && !p.keepdims && typeof x === "number" ? x : R.sum(x, p);
};

export const mean = (x: Value, axis?: number | readonly number[], keepdims = false): Value => {
  checkOperand("mean", x);
  const p = reduceParams("mean", x, axis, keepdims);
  const xs = shapeOf(x);
  const count = p.axes.reduce((n, a) => n * xs[a]!, 1);
  if (count === 0) throw new ShapeError(`mean: reducing ${fmt(xs)} over axes [${p.axes.join(", ")}] averages zero elements`);
  return B.div(R.sum(x, p), count);
};

export const logsumexp = (x: Value, axis?: number | readonly number[], keepdims = false): Value => {
  checkOperand("logsumexp", x);
  return R.logsumexp(x, reduceParams("logsumexp", x, axis, keepdims));
};

/**
 * max/min: the value at the first arg-max (arg-min). The derivative flows to that element
 * only (see primitives/select.ts). On a concrete tensor with nothing staging, the kernel runs
 * directly.
 */
const extremum = (kind: "max" | "min") => (x: Value, axis?: number | readonly number[], keepdims = false): Value => {
  checkOperand(kind, x);
  const p = reduceParams(kind, x, axis, keepdims);
  const xs = shapeOf(x);
  if (xs.length === 0) return x; // the extremum of one value is itself
  if (sizeOf(xs) === 0 || p.axes.some((a) => xs[a] === 0))
    throw new ShapeError(`${kind}: cannot reduce ${fmt(xs)} over an empty axis; there is no ${kind} of zero elements`);
  if (x instanceof Tensor && x.backend === "cpu" && evaluatesNumbers()) return (kind === "max" ? maxKernel : minKernel)(x, p.axes, p.keepdims);
  return Sel.select(Sel.extremum, x, { kind, ...p });
};
export const max = extremum("max");
export const min = extremum("min");

/** x − logsumexp(x) over one axis: one primitive (its kernel shifts by the maximum, for float32). */
const shiftedLogSoftmax = (op: string, x: Value, axis: number): Value => {
  checkOperand(op, x);
  const p: R.ReduceParams = { axes: normalizeAxes(op, axis, shapeOf(x).length), keepdims: true };
  if (typeof x === "number") return B.sub(x, x);
  return R.logSoftmax(x, p);
};

export const logSoftmax = (x: Value, axis = -1): Value => shiftedLogSoftmax("logSoftmax", x, axis);
export const softmax = (x: Value, axis = -1): Value => exp(shiftedLogSoftmax("softmax", x, axis));

/** NumPy matmul: 1-d operands are promoted to a row (left) or column (right), then removed. */
export const matmul = (a: Value, b: Value): Value => {
  checkOperand("matmul", a, "first operand");
  checkOperand("matmul", b, "second operand");
  const as = shapeOf(a);
  const bs = shapeOf(b);
  if (as.length === 0 || bs.length === 0)
    throw new ShapeError(`matmul: operands must be at least 1-d, got shapes ${fmt(as)} and ${fmt(bs)}; use mul for scalars`);
  const a2 = as.length === 1 ? S.reshape(a, [1, as[0]!]) : a;
  const b2 = bs.length === 1 ? S.reshape(b, [bs[0]!, 1]) : b;
  const a2s = shapeOf(a2);
  const b2s = shapeOf(b2);
  if (a2s[a2s.length - 1] !== b2s[b2s.length - 2])
    throw new ShapeError(
      `matmul: shapes ${fmt(as)} and ${fmt(bs)} do not align: the first has ${a2s[a2s.length - 1]} columns but the ` +
        `second has ${b2s[b2s.length - 2]} rows; transpose or reshape an operand`,
    );
  broadcastShapes("matmul (batch dimensions)", a2s.slice(0, -2), b2s.slice(0, -2));
  const c = M.matmul2(a2, b2);
  if (as.length > 1 && bs.length > 1) return c;
  const cs = shapeOf(c).slice();
  if (bs.length === 1) cs.splice(cs.length - 1, 1);
  if (as.length === 1) cs.splice(cs.length - (bs.length === 1 ? 1 : 2), 1);
  return S.reshape(c, cs);
};

/** NumPy dot for operands of rank <= 2 (and scalars); use matmul for batches. */
export const dot = (a: Value, b: Value): Value => {
  checkOperand("dot", a, "first operand");
  checkOperand("dot", b, "second operand");
  const ra = shapeOf(a).length;
  const rb = shapeOf(b).length;
  if (ra === 0 || rb === 0) return B.mul(a, b);
  if (ra > 2 || rb > 2)
    throw new ShapeError(`dot: takes operands of rank <= 2, got ${fmt(shapeOf(a))} and ${fmt(shapeOf(b))}; use matmul for batched products`);
  return matmul(a, b);
};

export const reshape = (x: Value, shape: readonly number[]): Value => {
  checkOperand("reshape", x);
  const xs = shapeOf(x);
  if (!Array.isArray(shape)) throw new ShapeError(`reshape: shape must be an array of integers, got ${show(shape)}`);
  const unknown = shape.indexOf(-1);
  let target = shape;
  if (unknown >= 0 && shape.indexOf(-1, unknown + 1) >= 0)
    throw new ShapeError(
      `reshape: shape ${fmt(shape)} has ${shape.filter((d) => d === -1).length} entries of -1; only one may be -1 ` +
        `(inferred from the others and the ${sizeOf(xs)} elements of ${fmt(xs)}): give the other sizes`,
    );
  if (unknown >= 0) {
    const known = shape.reduce((n, d, i) => (i === unknown ? n : n * d), 1);
    if (known === 0 || sizeOf(xs) % known !== 0)
      throw new ShapeError(`reshape: cannot infer the -1 in ${fmt(shape)} for ${fmt(xs)} (${sizeOf(xs)} elements); the other dimensions must divide ${sizeOf(xs)}`);
    target = shape.map((d) => (d === -1 ? sizeOf(xs) / known : d));
  }
  return S.reshape(x, checkShape("reshape", target));
};

export const transpose = (x: Value, perm?: readonly number[]): Value => {
  checkOperand("transpose", x);
  return S.transpose(x, checkPerm("transpose", perm, shapeOf(x).length));
};

export const broadcastTo = (x: Value, shape: readonly number[]): Value => {
  checkOperand("broadcastTo", x);
  const target = checkShape("broadcastTo", shape);
  const xs = shapeOf(x);
  const fits = xs.length <= target.length && xs.every((d, i) => d === 1 || d === target[target.length - xs.length + i]);
  if (!fits)
    throw new ShapeError(
      `broadcastTo: cannot broadcast ${fmt(xs)} to ${fmt(target)}; each axis of the operand must equal the target's ` +
        "matching trailing axis or be 1",
    );
  return S.broadcastTo(x, target);
};

export const concat = (xs: readonly Value[], axis = 0): Value => {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new ValueError(`concat: takes a non-empty array of tensors, got ${Array.isArray(xs) ? "an empty array" : typeof xs}`);
  xs.forEach((x, i) => checkOperand("concat", x, `element ${i}`));
  const shapes = xs.map(shapeOf);
  const rank = shapes[0]!.length;
  if (rank === 0) throw new ShapeError("concat: cannot concatenate 0-d values; reshape them to [1] first");
  const a = normalizeAxis("concat", axis, rank);
  const bad = shapes.findIndex((s) => s.length !== rank || s.some((d, i) => i !== a && d !== shapes[0]![i]));
  if (bad >= 0)
    throw new ShapeError(
      `concat: shapes ${shapes.map(fmt).join(", ")} do not fit along axis ${axis}: element ${bad} differs from ` +
        "element 0 outside the concatenation axis; all other axes must match",
    );
  return xs.length === 1 ? xs[0]! : S.concat(xs, a);
};

export const slice = (x: Value, starts: readonly number[], ends: readonly number[]): Value => {
  checkOperand("slice", x);
  const r = checkSlice("slice", shapeOf(x), starts, ends);
  return S.slice(x, r.starts, r.ends);
};

/** Indices: numbers, an Int32Array, or an integer-valued tensor or traced value (staged by jit, batched by vmap). */
export type Indices = readonly Value[] | Int32Array | Value;

export const take = (x: Value, indices: Indices, axis = 0): Value => {
  checkOperand("take", x);
  const xs = shapeOf(x);
  if (xs.length === 0) throw new ShapeError("take: cannot index a 0-d value; reshape it to [1] first");
  const a = normalizeAxis("take", axis, xs.length);
  // indices that exist only at run time select by a one-hot product, those held on a device
  // gather there; concrete ones gather by position
  const known = knownIndices(indices);
  if (known === undefined) {
    const runtime = Array.isArray(indices) ? stackIndices("take", indices) : (indices as Value);
    return heldOnDevice(runtime) ? takeByIndex(x, runtime, a) : takeByMask(x, runtime, a);
  }
  const { indices: idx, shape } = checkIndices("take", known as readonly number[] | Int32Array | Tensor, xs[a]!);
  return S.take(x, { indices: idx, indexShape: shape, axis: a });
};

/**
 * x[i] along axis 0 where the index i is a value (a number or a size-1 tensor), possibly one
 * known only at run time inside jit: a row of x; a number for a float64 vector.
 */
export const dynamicIndex = (x: Value, i: Value): Value => {
  checkOperand("dynamicIndex", x);
  checkOperand("dynamicIndex", i, "index");
  const xs = shapeOf(x);
  if (xs.length === 0) throw new ShapeError("dynamicIndex: cannot index a 0-d value; reshape it to [1] first");
  if (sizeOf(shapeOf(i)) !== 1) throw new ShapeError(`dynamicIndex: the index must be a scalar, got shape ${fmt(shapeOf(i))}`);
  return D.dynamicIndex(x, i);
};

export const where = (cond: Value, a: Value, b: Value): Value => {
  checkOperand("where", cond, "condition");
  checkOperand("where", a, "second operand");
  checkOperand("where", b, "third operand");
  return B.where(cond, a, b);
};

/**
 * Zero padding of a convolution or pooling: the same on every side (a number), per spatial axis
 * on both sides (`[ph, pw]`), or per side (`[[top, bottom], [left, right]]`).
 */
export type Padding = number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];

/**
 * Options of `conv2d`: `stride` and `dilation` (one number or one per spatial axis; default 1),
 * zero `padding` (a `Padding`, or `"same"` — the output has ⌈H / stride⌉ rows, as JAX and
 * TensorFlow, any odd padding at the bottom and right — or `"valid"`, none; default 0), and
 * `groups` (default 1): the channels split into that many groups, each convolved with its own
 * filters (w `[O, C / groups, KH, KW]`).
 */
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: Padding | "same" | "valid";
  dilation?: number | readonly [number, number];
  groups?: number;
}

/** The options conv2d accepts (any other key is a ValueError): to support a new one, add its key. */
export const CONV2D_OPTIONS: OptionSpec = { stride: "any", padding: "any", dilation: "any", groups: "any" }; // values: checkConv

export const conv2d = (x: Value, w: Value, options: Conv2dOptions = {}): Value => {
  checkOperand("conv2d", x, "input");
  checkOperand("conv2d", w, "filter");
  checkOptions("conv2d", options, CONV2D_OPTIONS);
  const { stride, padding, dilation, groups } = checkConv("conv2d", { shape: shapeOf(x) }, { shape: shapeOf(w) }, options);
  return C.conv2dRaw(x, w, { stride, padding, dilation, groups });
};

/** Options of `convTranspose2d`: `stride` (default 1) and the `padding` removed from the output (default 0), as PyTorch's. */
export interface ConvTranspose2dOptions {
  stride?: number | readonly [number, number];
  padding?: Padding;
}

/** The options convTranspose2d accepts (any other key is a ValueError). */
export const CONV_TRANSPOSE2D_OPTIONS: OptionSpec = { stride: "any", padding: "any" }; // values: checkConvTranspose

export const convTranspose2d = (x: Value, w: Value, options: ConvTranspose2dOptions = {}): Value => {
  checkOperand("convTranspose2d", x, "input");
  checkOperand("convTranspose2d", w, "filter");
  checkOptions("convTranspose2d", options, CONV_TRANSPOSE2D_OPTIONS);
  const { stride, padding, outShape } = checkConvTranspose("convTranspose2d", { shape: shapeOf(x) }, { shape: shapeOf(w) }, options);
  return C.conv2dInputGradRaw(x, w, { stride, padding, dilation: [1, 1], groups: 1, shape: outShape });
};

/** Options of the pooling operations: the window `size`, its `stride` (default `size`) and `padding` (default 0; each side smaller than the window). */
export interface Pool2dOptions {
  size: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: Padding;
}

/** Max pooling: the first maximum of each window (its derivative goes there); padding counts as −∞. */
export const maxPool2d = (x: Value, options: Pool2dOptions): Value => {
  checkOperand("maxPool2d", x);
  const { size, stride, padding, outShape } = checkPool2d("maxPool2d", { shape: shapeOf(x) }, options);
  if (x instanceof Tensor && x.backend === "cpu" && evaluatesNumbers()) return maxPool2dKernel(x, size, stride, padding).out;
  return Sel.select(Sel.maxPool, x, { size, stride, padding, outShape });
};

/** Average pooling: the mean of each window, padding counting as zeros (the divisor is always the window's size). */
export const avgPool2d = (x: Value, options: Pool2dOptions): Value => {
  checkOperand("avgPool2d", x);
  const { size, stride, padding } = checkPool2d("avgPool2d", { shape: shapeOf(x) }, options);
  return C.avgPool2dRaw(x, { size, stride, padding });
};
