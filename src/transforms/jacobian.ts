// Jacobians and Hessians from jvp and vjp. Results are assembled with operations, so these
// transformations differentiate again when nested.
import { dtypeOf, isNumberLike, shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import * as lax from "../lax.ts";
import { isLeaf } from "../pytree.ts";
import { sizeOf, sizeProblem } from "../tensor/shape.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
import type { Out } from "../ops.ts";
import { markProgram } from "../misuse.ts";
import { checkProgram, type Gen } from "./common.ts";
import { jvpDirect } from "./forward.ts";
import { reverseGrad } from "./grad.ts";
import { vjpDirect } from "./vjp.ts";

/** The k-th unit vector shaped like x. */
const unit = (x: Value, k: number): Value => {
  if (isNumberLike(x)) return 1;
  const buf = allocate(dtypeOf(x), sizeOf(shapeOf(x)));
  buf[k] = 1;
  return new Tensor(buf, shapeOf(x));
};

const leafArg = (name: string, x: unknown): Value => {
  if (!isLeaf(x)) throw new TransformError(`${name}: differentiates with respect to a number or a tensor, got ${typeof x}`);
  return x;
};

/** Stacks results r_k (each of shape B) into shape [...B, ...A] (k runs over A, row-major). */
const stackLast = (results: Value[], outShape: readonly number[], inShape: readonly number[]): Value => {
  if (inShape.length === 0) return results[0]!;
  const columns = results.map((r) => lax.reshape(r, [...outShape, 1]));
  return lax.reshape(lax.concat(columns, outShape.length), [...outShape, ...inShape]);
};

/**
 * Jacobian by forward mode: one JVP per input element. For a function from shape `A` to shape
 * `B`, a tensor of shape `[...B, ...A]` (a number from a number to a number).
 */
export function jacfwd<A extends unknown[], R>(f: (...args: A) => Gen<R>): (...args: A) => Gen<Out<A[0], R>> {
  checkProgram("jacfwd", f);
  return forwardJacobian("jacfwd", f);
}

/** A Jacobian of shape [...outShape, ...inShape] must fit in a tensor: checked before its columns are computed. */
const checkJacobian = (name: string, outShape: readonly number[], inShape: readonly number[]): void => {
  const shape = [...outShape, ...inShape];
  const problem = sizeProblem(shape);
  if (problem !== undefined)
    throw new ShapeError(`${name}: the Jacobian of a program from ${fmt(inShape)} to ${fmt(outShape)} would have shape ${fmt(shape)}, which has ${problem}`);
};

function forwardJacobian<A extends unknown[], R>(name: string, f: (...args: A) => Gen<R>, outShapeKnown?: (x: Value) => readonly number[]) {
  return markProgram(name, function* jacfwdProgram(...args: A) {
    const x = leafArg(name, args[0]);
    const n = sizeOf(shapeOf(x));
    if (outShapeKnown) checkJacobian(name, outShapeKnown(x), shapeOf(x));
    const rest = args.slice(1);
    let outShape: readonly number[] = [];
    const columns: Value[] = [];
    for (let k = 0; k < n; k++) {
      const [y, t] = jvpDirect(name, ((x: Value) => f(...([x, ...rest] as A))) as never, [x], [unit(x, k)]);
      outShape = shapeOf(leafArg(name, y));
      if (k === 0) checkJacobian(name, outShape, shapeOf(x));
      columns.push(t as Value);
    }
    return stackLast(columns, outShape, shapeOf(x)) as Out<A[0], R>;
  });
}

/** Jacobian by reverse mode: one pullback per output element. Shaped as `jacfwd`'s. */
export function jacrev<A extends unknown[], R>(f: (...args: A) => Gen<R>): (...args: A) => Gen<Out<A[0], R>> {
  checkProgram("jacrev", f);
  return markProgram("jacrev", function* jacrevProgram(...args: A) {
    const x = leafArg("jacrev", args[0]);
    const rest = args.slice(1);
    const [y, pullback] = vjpDirect("jacrev", ((x: Value) => f(...([x, ...rest] as A))) as never, [x]);
    const outShape = shapeOf(leafArg("jacrev", y));
    const inShape = shapeOf(x);
    checkJacobian("jacrev", outShape, inShape);
    if (outShape.length === 0) return (yield* pullback(unit(y as Value, 0)))[0] as Out<A[0], R>;
    const rows: Value[] = [];
    for (let k = 0; k < sizeOf(outShape); k++) {
      const [g] = yield* pullback(unit(y as Value, k));
      rows.push(lax.reshape(g as Value, [1, ...inShape]));
    }
    return lax.reshape(lax.concat(rows, 0), [...outShape, ...inShape]) as Out<A[0], R>;
  });
}

/**
 * Hessian of a scalar program: forward over reverse. For an argument of shape `A`, a tensor of
 * shape `[...A, ...A]` (a number for a number).
 */
export function hessian<A extends unknown[]>(f: (...args: A) => Gen<unknown>): (...args: A) => Gen<Out<A[0]>> {
  checkProgram("hessian", f);
  const gradient = function* (...args: A) {
    return reverseGrad("hessian", f, args, 0)[1] as A[0];
  };
  // the gradient is shaped like the argument: the Hessian's size is known before any column
  return forwardJacobian("hessian", gradient, (x) => shapeOf(x)) as (...args: A) => Gen<Out<A[0]>>;
}
