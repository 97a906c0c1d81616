// The operations as effects: what programs `yield*`. Each returns a small Effect object; the
// driver performs it through the handler stack and resumes the program with the result.
import { CompositeOp, PrimitiveOp } from "../effects/operation.ts";
import type { Effect } from "../effects/effect.ts";
import type { Primitive } from "../effects/primitive.ts";
import type { Traced, Value } from "../effects/value.ts";
import * as lax from "./lax.ts";
import * as B from "./primitives/binary.ts";
import * as U from "./primitives/unary.ts";
import type { Tensor } from "./tensor/tensor.ts";

/** The result type: numbers stay numbers, tensors stay tensors, traced values stay traced. */
export type Out<A, B = A> = [A, B] extends [number, number] ? number : [A | B] extends [number | Tensor] ? Tensor : Value;
/** The result of an operation that always makes an array (shape operations, matmul). */
export type ArrayOut<A, B = A> = [A | B] extends [number | Tensor] ? Tensor : Tensor | Traced;

type Axis = number | readonly number[];

const unary =
  (p: Primitive) =>
  <X extends Value>(x: X): Effect<Out<X>> =>
    new PrimitiveOp<Out<X> & Value>(p, [lax.checkOperand(p.name, x)], undefined);
const binary =
  (p: Primitive) =>
  <A extends Value, B extends Value>(a: A, b: B): Effect<Out<A, B>> =>
    new PrimitiveOp<Out<A, B> & Value>(p, [lax.checkOperand(p.name, a, "first operand"), lax.checkOperand(p.name, b, "second operand")], undefined);
const composite = <R>(name: string, run: () => Value): Effect<R> => new CompositeOp<R>(name, run as () => R);

// Elementwise binary (NumPy broadcasting)
export const add = binary(B.addP);
export const sub = binary(B.subP);
export const mul = binary(B.mulP);
export const div = binary(B.divP);
export const pow = binary(B.powP);
export const maximum = binary(B.maximumP);
export const minimum = binary(B.minimumP);
// Comparisons: 0/1 values, zero derivative
export const greater = binary(B.greaterP);
export const less = binary(B.lessP);
export const equal = binary(B.equalP);
export const greaterEqual = binary(B.greaterEqualP);
export const lessEqual = binary(B.lessEqualP);
// Elementwise unary
export const neg = unary(U.negP);
export const exp = unary(U.expP);
export const log = unary(U.logP);
export const log1p = unary(U.log1pP);
export const expm1 = unary(U.expm1P);
export const sin = unary(U.sinP);
export const cos = unary(U.cosP);
export const tan = unary(U.tanP);
export const tanh = unary(U.tanhP);
export const sigmoid = unary(U.sigmoidP);
export const relu = unary(U.reluP);
export const sqrt = unary(U.sqrtP);
export const square = unary(U.squareP);
export const abs = unary(U.absP);
export const sign = unary(U.signP);

export const where = <C extends Value, A extends Value, B extends Value>(cond: C, a: A, b: B): Effect<Out<C | A, B>> =>
  composite("where", () => lax.where(cond, a, b));

// Reductions
export const sum = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("sum", () => lax.sum(x, axis, keepdims));
export const mean = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("mean", () => lax.mean(x, axis, keepdims));
export const max = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("max", () => lax.max(x, axis, keepdims));
export const min = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("min", () => lax.min(x, axis, keepdims));
export const logsumexp = <X extends Value>(x: X, axis?: Axis, keepdims = false): Effect<Out<X>> =>
  composite("logsumexp", () => lax.logsumexp(x, axis, keepdims));
// Normalization
export const softmax = <X extends Value>(x: X, axis = -1): Effect<Out<X>> => composite("softmax", () => lax.softmax(x, axis));
export const logSoftmax = <X extends Value>(x: X, axis = -1): Effect<Out<X>> =>
  composite("logSoftmax", () => lax.logSoftmax(x, axis));
// Linear algebra
export const matmul = <A extends Value, B extends Value>(a: A, b: B): Effect<ArrayOut<A, B>> =>
  composite("matmul", () => lax.matmul(a, b));
export const dot = <A extends Value, B extends Value>(a: A, b: B): Effect<Out<A, B>> => composite("dot", () => lax.dot(a, b));
// Shape
export const reshape = <X extends Value>(x: X, shape: readonly number[]): Effect<ArrayOut<X>> =>
  composite("reshape", () => lax.reshape(x, shape));
export const transpose = <X extends Value>(x: X, perm?: readonly number[]): Effect<ArrayOut<X>> =>
  composite("transpose", () => lax.transpose(x, perm));
export const broadcastTo = <X extends Value>(x: X, shape: readonly number[]): Effect<ArrayOut<X>> =>
  composite("broadcastTo", () => lax.broadcastTo(x, shape));
export const concat = <X extends Value>(xs: readonly X[], axis = 0): Effect<ArrayOut<X>> =>
  composite("concat", () => lax.concat(xs, axis));
export const slice = <X extends Value>(x: X, starts: readonly number[], ends: readonly number[]): Effect<ArrayOut<X>> =>
  composite("slice", () => lax.slice(x, starts, ends));
export const take = <X extends Value>(x: X, indices: readonly number[] | Tensor | Int32Array, axis = 0): Effect<ArrayOut<X>> =>
  composite("take", () => lax.take(x, indices, axis));
export const dynamicIndex = <X extends Value>(x: X, i: Value): Effect<Value> => composite("dynamicIndex", () => lax.dynamicIndex(x, i));
// Neural network
export const conv2d = <X extends Value, W extends Value>(x: X, w: W, options: lax.Conv2dOptions = {}): Effect<ArrayOut<X, W>> =>
  composite("conv2d", () => lax.conv2d(x, w, options));
export const maxPool2d = <X extends Value>(x: X, options: lax.Pool2dOptions): Effect<ArrayOut<X>> =>
  composite("maxPool2d", () => lax.maxPool2d(x, options));
export const avgPool2d = <X extends Value>(x: X, options: lax.Pool2dOptions): Effect<ArrayOut<X>> =>
  composite("avgPool2d", () => lax.avgPool2d(x, options));
/** Its value; its derivative is zero at every order. */
export const stopGradient = <X extends Value>(x: X): Effect<X> => composite("stopGradient", () => lax.stopGradient(lax.checkOperand("stopGradient", x)));
