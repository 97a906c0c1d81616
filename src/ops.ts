// The operations as effects: what programs `yield*`. Each returns a small Effect object; the
// driver performs it through the handler stack and resumes the program with the result.
import { CompositeOp, Performed, PrimitiveOp, performNow } from "../effects/operation.ts";
import { inPlace } from "../effects/effect.ts";
import { evaluatesNumbers } from "../effects/trace.ts";
import type { Effect } from "../effects/effect.ts";
import { primitiveCode, type Primitive } from "../effects/primitive.ts";
import type { Traced, Value } from "../effects/value.ts";
import * as lax from "./lax.ts";
import * as B from "./primitives/binary.ts";
import * as U from "./primitives/unary.ts";
import * as RX from "./reductions-extra.ts";
import * as SO from "./sorting.ts";
import * as IX from "./indexing.ts";
import type { Tensor } from "./tensor/tensor.ts";
import * as Arr from "./arrange/index.ts";
import * as Con from "./contract/index.ts";

/** The result type: numbers stay numbers, tensors stay tensors, traced values stay traced. */
export type Out<A, B = A> = [A, B] extends [number, number] ? number : [A | B] extends [number | Tensor] ? Tensor : Value;
/** The result of an operation that always makes an array (shape operations, matmul). */
export type ArrayOut<A, B = A> = [A | B] extends [number | Tensor] ? Tensor : Tensor | Traced;

type Axis = number | readonly number[];

// While a driver runs the program (inPlace.on), an elementwise operation is performed where the
// program makes it: on numbers that evaluate at once, by its scalar function; otherwise through
// the handler stack. Outside a driver it is an effect object, yielded to whoever steps the program.
const unary = (p: U.UnaryPrimitive) => {
  const scalar = p.kernel.scalar;
  const code = primitiveCode(p);
  return <X extends Value>(x: X): Effect<Out<X>> => {
    // (numbers first: they need no operand check, and a short path here is inlined)
    if (typeof x === "number" && inPlace.on && evaluatesNumbers()) return new Performed(p, scalar(x) as Out<X>);
    if (inPlace.on) return new Performed(p, performNow(p, code, scalar, x, undefined) as Out<X>);
    return new PrimitiveOp<Out<X> & Value>(p, [lax.checkOperand(p.name, x)], undefined);
  };
};
const binary = (p: B.BinaryPrimitive) => {
  const scalar = p.kernel.scalar;
  const code = primitiveCode(p);
  return <A extends Value, B extends Value>(a: A, b: B): Effect<Out<A, B>> => {
    if (typeof a === "number" && typeof b === "number" && inPlace.on && evaluatesNumbers()) return new Performed(p, scalar(a, b) as Out<A, B>);
    // (performNow checks the operands as it dispatches them)
    if (inPlace.on && b !== undefined) return new Performed(p, performNow(p, code, scalar, a, b) as Out<A, B>);
    lax.checkOperand(p.name, a, "first operand");
    lax.checkOperand(p.name, b, "second operand");
    return new PrimitiveOp<Out<A, B> & Value>(p, [a, b], undefined);
  };
};
const composite = <R>(name: string, run: () => Value): Effect<R> => new CompositeOp<R>(name, run as () => R);

// Elementwise binary (NumPy broadcasting)
/** Elementwise a + b, with NumPy broadcasting. */
export const add = binary(B.addP);
/** Elementwise a − b, with NumPy broadcasting. */
export const sub = binary(B.subP);
/** Elementwise a · b, with NumPy broadcasting. */
export const mul = binary(B.mulP);
/** Elementwise a / b, with NumPy broadcasting. */
export const div = binary(B.divP);
/** Elementwise a to the power b, with NumPy broadcasting. */
export const pow = binary(B.powP);
/** Elementwise larger of a and b, with NumPy broadcasting. */
export const maximum = binary(B.maximumP);
/** Elementwise smaller of a and b, with NumPy broadcasting. */
export const minimum = binary(B.minimumP);
/** Elementwise angle of the point (x, y) — atan2(y, x) in (−π, π] — with NumPy broadcasting. */
export const atan2 = binary(B.atan2P);
/** Elementwise remainder of a / b with the sign of b (NumPy's floored `mod`: mod(−1, 3) = 2), with NumPy broadcasting; NaN for b = 0. */
export const mod = binary(B.modP);
/** Elementwise log(eᵃ + eᵇ), computed stably (large operands and −Infinity), with NumPy broadcasting. */
export const logaddexp = binary(B.logaddexpP);
/** Elementwise √(a² + b²) without overflow or underflow, with NumPy broadcasting. */
export const hypot = binary(B.hypotP);
// Comparisons: 0/1 values, zero derivative
/** Elementwise a > b as 1 or 0; not differentiable (zero derivative). */
export const greater = binary(B.greaterP);
/** Elementwise a < b as 1 or 0; not differentiable (zero derivative). */
export const less = binary(B.lessP);
/** Elementwise a = b as 1 or 0; not differentiable (zero derivative). */
export const equal = binary(B.equalP);
/** Elementwise a ≥ b as 1 or 0; not differentiable (zero derivative). */
export const greaterEqual = binary(B.greaterEqualP);
/** Elementwise a ≤ b as 1 or 0; not differentiable (zero derivative). */
export const lessEqual = binary(B.lessEqualP);
// Elementwise unary
/** Elementwise −x. */
export const neg = unary(U.negP);
/** Elementwise eˣ. */
export const exp = unary(U.expP);
/** Elementwise natural logarithm. */
export const log = unary(U.logP);
/** Elementwise log(1 + x), accurate for small x. */
export const log1p = unary(U.log1pP);
/** Elementwise eˣ − 1, accurate for small x. */
export const expm1 = unary(U.expm1P);
/** Elementwise sine. */
export const sin = unary(U.sinP);
/** Elementwise cosine. */
export const cos = unary(U.cosP);
/** Elementwise tangent. */
export const tan = unary(U.tanP);
/** Elementwise hyperbolic tangent. */
export const tanh = unary(U.tanhP);
/** Elementwise logistic sigmoid 1 / (1 + e⁻ˣ). */
export const sigmoid = unary(U.sigmoidP);
/** Elementwise max(x, 0). */
export const relu = unary(U.reluP);
/** Elementwise square root. */
export const sqrt = unary(U.sqrtP);
/** Elementwise x². */
export const square = unary(U.squareP);
/** Elementwise absolute value. */
export const abs = unary(U.absP);
/** Elementwise sign (−1, 0 or 1); zero derivative. */
export const sign = unary(U.signP);
/** Elementwise arcsine, in [−π/2, π/2]; NaN outside [−1, 1]. */
export const asin = unary(U.asinP);
/** Elementwise arccosine, in [0, π]; NaN outside [−1, 1]. */
export const acos = unary(U.acosP);
/** Elementwise arctangent, in (−π/2, π/2). */
export const atan = unary(U.atanP);
/** Elementwise hyperbolic sine. */
export const sinh = unary(U.sinhP);
/** Elementwise hyperbolic cosine. */
export const cosh = unary(U.coshP);
/** Elementwise inverse hyperbolic sine. */
export const asinh = unary(U.asinhP);
/** Elementwise inverse hyperbolic cosine; NaN below 1. */
export const acosh = unary(U.acoshP);
/** Elementwise inverse hyperbolic tangent; ±Infinity at ±1, NaN outside [−1, 1]. */
export const atanh = unary(U.atanhP);
/** Elementwise base-2 logarithm (−Infinity at 0, NaN below). */
export const log2 = unary(U.log2P);
/** Elementwise base-10 logarithm (−Infinity at 0, NaN below). */
export const log10 = unary(U.log10P);
/** Elementwise 2ˣ. */
export const exp2 = unary(U.exp2P);
/** Elementwise cube root (negative for negative x). */
export const cbrt = unary(U.cbrtP);
/** Elementwise error function (2/√π)·∫₀ˣ e^(−t²) dt, accurate to a few ulps at float64. */
export const erf = unary(U.erfP);
/** Elementwise 1 − erf(x), accurate for large x where it is tiny (no cancellation). */
export const erfc = unary(U.erfcP);
/** Elementwise inverse of erf: ±Infinity at ±1, NaN outside [−1, 1]. */
export const erfinv = unary(U.erfinvP);
/** Elementwise largest integer ≤ x; zero derivative. */
export const floor = unary(U.floorP);
/** Elementwise smallest integer ≥ x; zero derivative. */
export const ceil = unary(U.ceilP);
/** Elementwise nearest integer, halves to even (NumPy's `round`: 0.5 → 0, 1.5 → 2, 2.5 → 2); zero derivative. */
export const round = unary(U.roundP);
/** Elementwise integer part (rounds toward zero); zero derivative. */
export const trunc = unary(U.truncP);
/** Elementwise log(1 + eˣ), computed stably (exact for large |x|); its derivative is the sigmoid. */
export const softplus = unary(U.softplusP);
/** Elementwise x·σ(x) (SiLU, swish). */
export const silu = unary(U.siluP);
/** Elementwise exact GELU x·Φ(x), Φ the standard normal distribution function (erf-based, not the tanh approximation). */
export const gelu = unary(U.geluP);

/** Elementwise selection: `a` where `cond` is nonzero, `b` elsewhere (broadcast together); differentiable in a and b. */
export const where = <C extends Value, A extends Value, B extends Value>(cond: C, a: A, b: B): Effect<Out<C | A, B>> =>
  composite("where", () => lax.where(cond, a, b));

// Reductions
/** Sum over `axis` (a number or numbers, negative counting from the end; default all), keeping reduced axes of size 1 with `keepdims`. */
export const sum = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("sum", () => lax.sum(x, axis, keepdims));
/** Mean over `axis` (default all), as `sum`. */
export const mean = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("mean", () => lax.mean(x, axis, keepdims));
/** Maximum over `axis` (default all), as `sum`. */
export const max = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("max", () => lax.max(x, axis, keepdims));
/** Minimum over `axis` (default all), as `sum`. */
export const min = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("min", () => lax.min(x, axis, keepdims));
/** log Σ eˣ over `axis` (default all), computed stably. */
export const logsumexp = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("logsumexp", () => lax.logsumexp(x, axis, keepdims));
// Normalization
/** Softmax along `axis` (default the last), computed stably. */
export const softmax = <X extends Value>(x: X, axis = -1): Effect<Out<X>> => composite("softmax", () => lax.softmax(x, axis));
/** Log-softmax along `axis` (default the last), computed stably. */
export const logSoftmax = <X extends Value>(x: X, axis = -1): Effect<Out<X>> =>
  composite("logSoftmax", () => lax.logSoftmax(x, axis));
// Linear algebra
/** Matrix product as NumPy's: 1-d operands as vectors, leading batch axes broadcast. */
export const matmul = <A extends Value, B extends Value>(a: A, b: B): Effect<ArrayOut<A, B>> =>
  composite("matmul", () => lax.matmul(a, b));
/** Dot product of two vectors (matrix products as `matmul` for higher ranks). */
export const dot = <A extends Value, B extends Value>(a: A, b: B): Effect<Out<A, B>> => composite("dot", () => lax.dot(a, b));
// Shape
/** The same elements in a new shape (one axis may be −1). */
export const reshape = <X extends Value>(x: X, shape: readonly number[]): Effect<ArrayOut<X>> =>
  composite("reshape", () => lax.reshape(x, shape));
/** Axes permuted by `perm` (default: reversed). */
export const transpose = <X extends Value>(x: X, perm?: readonly number[]): Effect<ArrayOut<X>> =>
  composite("transpose", () => lax.transpose(x, perm));
/** Broadcast to `shape` by NumPy's rules; its derivative sums over the broadcast axes. */
export const broadcastTo = <X extends Value>(x: X, shape: readonly number[]): Effect<ArrayOut<X>> =>
  composite("broadcastTo", () => lax.broadcastTo(x, shape));
/** Concatenation along `axis` (default 0). */
export const concat = <X extends Value>(xs: readonly X[], axis = 0): Effect<ArrayOut<X>> =>
  composite("concat", () => lax.concat(xs, axis));
/** The half-open range [starts[i], ends[i]) of every axis i. */
export const slice = <X extends Value>(x: X, starts: readonly number[], ends: readonly number[]): Effect<ArrayOut<X>> =>
  composite("slice", () => lax.slice(x, starts, ends));
/** Elements at `indices` along `axis` (default 0); indices are a number array, an Int32Array or an integer tensor, traced ones included (staged by jit, batched by vmap). */
export const take = <X extends Value>(x: X, indices: lax.Indices, axis = 0): Effect<ArrayOut<X>> =>
  composite("take", () => lax.take(x, indices, axis));
/** Row `i` of `x` along its first axis, where `i` may be a traced value (staged as data by `jit`). */
export const dynamicIndex = <X extends Value>(x: X, i: Value): Effect<Value> => composite("dynamicIndex", () => lax.dynamicIndex(x, i));
// Neural network
/** 2-d convolution (cross-correlation) of x `[N, C, H, W]` with w `[O, C / groups, KH, KW]`, with `stride`, `padding` (numbers, pairs, `"same"`, `"valid"`), `dilation` and `groups`. */
export const conv2d = <X extends Value, W extends Value>(x: X, w: W, options: lax.Conv2dOptions = {}): Effect<ArrayOut<X, W>> =>
  composite("conv2d", () => lax.conv2d(x, w, options));
/** Transposed 2-d convolution (conv2d's adjoint in its input) of x `[N, C_in, H, W]` with w `[C_in, C_out, KH, KW]` (PyTorch's layout): `[N, C_out, (H − 1)·stride − 2·padding + KH, ...]`. */
export const convTranspose2d = <X extends Value, W extends Value>(x: X, w: W, options: lax.ConvTranspose2dOptions = {}): Effect<ArrayOut<X, W>> =>
  composite("convTranspose2d", () => lax.convTranspose2d(x, w, options));
/** 2-d max pooling of x `[N, C, H, W]` over windows of `size` with `stride` (default `size`) and `padding` (counting as −∞). */
export const maxPool2d = <X extends Value>(x: X, options: lax.Pool2dOptions): Effect<ArrayOut<X>> =>
  composite("maxPool2d", () => lax.maxPool2d(x, options));
/** 2-d average pooling of x `[N, C, H, W]` over windows of `size` with `stride` (default `size`) and `padding` (zeros; the divisor is the whole window). */
export const avgPool2d = <X extends Value>(x: X, options: lax.Pool2dOptions): Effect<ArrayOut<X>> =>
  composite("avgPool2d", () => lax.avgPool2d(x, options));
/** Its value; its derivative is zero at every order. */
export const stopGradient = <X extends Value>(x: X): Effect<X> => composite("stopGradient", () => lax.stopGradient(lax.checkOperand("stopGradient", x)));

// Shape operations and contractions (second round): src/arrange/, src/contract/
export type { PadMode, PadOptions } from "./arrange/pad.ts";
export type { TensordotAxes } from "./contract/tensordot.ts";
/** The operands (all of one shape) stacked along a new axis `axis` (default 0; negative from the end of the result). */
export const stack = <X extends Value>(xs: readonly X[], axis = 0): Effect<ArrayOut<X>> => composite("stack", () => Arr.stack(xs, axis));
/** Pieces of `x` along `axis` (default 0), as NumPy's split: a number of equal sections, or the indices to cut before. */
export const split = <X extends Value>(x: X, sectionsOrIndices: number | readonly number[], axis = 0): Effect<ArrayOut<X>[]> =>
  new CompositeOp<ArrayOut<X>[]>("split", () => Arr.split(x, sectionsOrIndices, axis) as ArrayOut<X>[]);
/** `x` with its elements in reverse order along `axis` (a number or numbers; default every axis). */
export const flip = <X extends Value>(x: X, axis?: Axis): Effect<ArrayOut<X>> => composite("flip", () => Arr.flip(x, axis));
/** `x` repeated `reps[i]` times along axis i, as NumPy's tile (`reps` a number or one count per axis). */
export const tile = <X extends Value>(x: X, reps: number | readonly number[]): Effect<ArrayOut<X>> => composite("tile", () => Arr.tile(x, reps));
/** Each element repeated `repeats` times (a number, or one count per element) along `axis`; without an axis, of the flattened `x`. */
export const repeat = <X extends Value>(x: X, repeats: number | readonly number[], axis?: number): Effect<ArrayOut<X>> =>
  composite("repeat", () => Arr.repeat(x, repeats, axis));
/** `x` without its size-1 axes `axis` (default: all of them); naming an axis whose size is not 1 is a ShapeError. */
export const squeeze = <X extends Value>(x: X, axis?: Axis): Effect<ArrayOut<X>> => composite("squeeze", () => Arr.squeeze(x, axis));
/** `x` with new size-1 axes at the positions `axis` of the result (a number or numbers; negative from the end). */
export const expandDims = <X extends Value>(x: X, axis: Axis): Effect<ArrayOut<X>> => composite("expandDims", () => Arr.expandDims(x, axis));
/** `x` padded by `widths` (one `[before, after]` per axis) with a constant `value` (default 0), copies of the edge, or its mirror image (`mode`). */
export const pad = <X extends Value>(x: X, widths: readonly (readonly number[])[], options?: Arr.PadOptions): Effect<ArrayOut<X>> =>
  composite("pad", () => Arr.pad(x, widths, options));
/** The lower triangle of each matrix (the last two axes): elements on and below diagonal `k` (default 0), the others zero. */
export const tril = <X extends Value>(x: X, k = 0): Effect<ArrayOut<X>> => composite("tril", () => Arr.tril(x, k));
/** The upper triangle of each matrix (the last two axes): elements on and above diagonal `k` (default 0), the others zero. */
export const triu = <X extends Value>(x: X, k = 0): Effect<ArrayOut<X>> => composite("triu", () => Arr.triu(x, k));
/** A vector placed on diagonal `k` of a square matrix, or a matrix's diagonal `k` as a vector (NumPy's diag). */
export const diag = <X extends Value>(x: X, k = 0): Effect<ArrayOut<X>> => composite("diag", () => Arr.diag(x, k));
/** The sum of the main diagonal over the first two axes (NumPy's trace). */
export const trace = <X extends Value>(x: X): Effect<ArrayOut<X>> => composite("trace", () => Arr.trace(x));
/** Σ a·b over paired axes: `axes` a number n (a's last n with b's first n) or `[axesOfA, axesOfB]`; a's other axes, then b's. */
export const tensordot = <A extends Value, B extends Value>(a: A, b: B, axes: Con.TensordotAxes): Effect<ArrayOut<A, B>> =>
  composite("tensordot", () => Con.tensordot(a, b, axes));
/**
 * NumPy's einsum (without ellipsis): `spec` names each operand's axes with letters, e.g.
 * "ij,jk->ik"; repeated letters in one operand take a diagonal, letters missing from the output
 * are summed, and without "->" the output is the letters that appear once, sorted. Three or more
 * operands are contracted pairwise in a greedy order by intermediate size, each contraction one matmul.
 */
export const einsum = <X extends Value[]>(spec: string, ...operands: X): Effect<ArrayOut<X[number]>> => composite("einsum", () => Con.einsum(spec, operands));

// Reductions, sorting and indexing (second round)
/** The value an index argument (number[], Int32Array, or a tensor) stands for in result types. */
type IndexValue<I> = I extends Value ? I : I extends readonly (infer E)[] ? E : number;
/** Product over `axis` (default all), as `sum`; the product of zero elements is 1. Its gradient is exact with one or several zeros in a slice. */
export const prod = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> => composite("prod", () => RX.prod(x, axis, keepdims));
/** Variance over `axis` (default all): Σ (x − mean)² / (N − ddof), with `ddof` 0 unless given. */
export const variance = <X extends Value>(x: X, axis?: Axis, keepdims = false, options?: RX.VarianceOptions): Effect<Out<X>> =>
  composite("variance", () => RX.variance(x, axis, keepdims, options));
/** Standard deviation over `axis` (default all): √variance. Where the variance is 0 the gradient is NaN (as JAX's). */
export const std = <X extends Value>(x: X, axis?: Axis, keepdims = false, options?: RX.VarianceOptions): Effect<Out<X>> =>
  composite("std", () => RX.std(x, axis, keepdims, options));
/** Position of the first maximum along `axis` (default: of the flattened operand); the first NaN wins. Integer-valued float64, no derivative. */
export const argmax = <X extends Value>(x: X, axis?: number): Effect<ArrayOut<X>> => composite("argmax", () => RX.argmax(x, axis));
/** Position of the first minimum along `axis` (default: of the flattened operand); the first NaN wins. Integer-valued float64, no derivative. */
export const argmin = <X extends Value>(x: X, axis?: number): Effect<ArrayOut<X>> => composite("argmin", () => RX.argmin(x, axis));
/** Running sum along `axis` (default the last). */
export const cumsum = <X extends Value>(x: X, axis = -1): Effect<ArrayOut<X>> => composite("cumsum", () => RX.cumsum(x, axis));
/** Running product along `axis` (default the last); its gradient is exact where elements are zero. */
export const cumprod = <X extends Value>(x: X, axis = -1): Effect<ArrayOut<X>> => composite("cumprod", () => RX.cumprod(x, axis));
/** Sorted along `axis` (default the last), ascending, NaN last; the gradient goes back to each value's place. */
export const sort = <X extends Value>(x: X, axis = -1): Effect<ArrayOut<X>> => composite("sort", () => SO.sort(x, axis));
/** The positions that sort `x` along `axis` (default the last): stable, NaN last. Integer-valued float64, no derivative. */
export const argsort = <X extends Value>(x: X, axis = -1): Effect<ArrayOut<X>> => composite("argsort", () => SO.argsort(x, axis));
/** The `k` largest along the last axis, largest first (ties: lower position first; NaN counts as largest), as `[values, indices]`; the gradient flows to the chosen elements. */
export const topK = <X extends Value>(x: X, k: number): Effect<[ArrayOut<X>, ArrayOut<X>]> =>
  new CompositeOp<[ArrayOut<X>, ArrayOut<X>]>("topK", () => SO.topK(x, k) as [ArrayOut<X>, ArrayOut<X>]);
/** `[...S, n]` for indices of shape `S`: 1 at each index, 0 elsewhere (float64, or the index tensor's dtype). */
export const oneHot = <I extends IX.IndexArgument>(indices: I, n: number): Effect<ArrayOut<IndexValue<I>>> =>
  composite("oneHot", () => IX.oneHot(indices, n));
/** Sums of the rows of `data` (`[m, ...R]`) by segment id, one id per row in `[0, numSegments)`: `[numSegments, ...R]`. */
export const segmentSum = <D extends Value, I extends IX.IndexArgument>(data: D, segmentIds: I, numSegments: number): Effect<ArrayOut<D, IndexValue<I>>> =>
  composite("segmentSum", () => IX.segmentSum(data, segmentIds, numSegments));
/** The window of `sizes` at `starts` (one per axis, traced scalars allowed; clamped into range as JAX's). */
export const dynamicSlice = <X extends Value, I extends IX.IndexArgument>(x: X, starts: I, sizes: readonly number[]): Effect<ArrayOut<X, IndexValue<I>>> =>
  composite("dynamicSlice", () => IX.dynamicSlice(x, starts, sizes));
/** `x` with `update` written at `starts` (one per axis, traced scalars allowed; clamped so the update fits, as JAX's). */
export const dynamicUpdateSlice = <X extends Value, V extends Value, I extends IX.IndexArgument>(
  x: X,
  update: V,
  starts: I,
): Effect<ArrayOut<X | V, IndexValue<I>>> => composite("dynamicUpdateSlice", () => IX.dynamicUpdateSlice(x, update, starts));
