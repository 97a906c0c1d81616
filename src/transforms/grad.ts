// grad and valueAndGrad: run the program under a fresh reverse handler (shift on every
// operation), then reset: seed the output's adjoint with 1 and run the pending steps.
import { ReverseBox, ReverseTrace } from "../../effects/reverse.ts";
import { cotangentSum } from "./cotangent-sum.ts";
import { withTrace } from "../../effects/trace.ts";
import { shapeOf, type Value } from "../../effects/value.ts";
import { isLeaf, mapLeaves, type Flat } from "../pytree.ts";
import { TransformError, fmt } from "../errors.ts";
import { markProgram } from "../misuse.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { checkArgnums, checkProgram, checkScalar, differentiable, gradientFor, runToEnd, type Gen, type AnyProgram } from "./common.ts";
import { isNumberLike, onesLike } from "../number-kind.ts";

/** Options of `grad` and `valueAndGrad`. */
export interface GradOptions {
  /** Which argument(s) to differentiate: a number (negative counts from the end), or an array for an array of gradients. */
  argnums?: number | readonly number[];
  /**
   * The program returns a pair `[value, aux]`: the value is differentiated, `aux` (any pytree)
   * is passed through as data (not differentiated): `grad` gives `[gradient, aux]`,
   * `valueAndGrad` `[[value, aux], gradient]` (as JAX's `has_aux`).
   */
  hasAux?: boolean;
}

/** The options grad and valueAndGrad accept (any other key is a ValueError). */
export const GRAD_OPTIONS: OptionSpec = { argnums: ["number", "array"], hasAux: "boolean" };

/** The auxiliary data of a program returning `[value, aux]`. */
export type AuxOf<R> = R extends readonly [unknown, infer X] ? X : unknown;
/** What `grad` gives: the gradient(s), with the aux data beside them when `hasAux` is true. */
type GradResult<A extends unknown[], R, O extends GradOptions> = O["hasAux"] extends true ? [GradsOf<A, O["argnums"]>, AuxOf<R>] : GradsOf<A, O["argnums"]>;

/** The gradient type of an argument type: numbers give numbers, tensors tensors, trees trees. */
export type GradOf<T> = T;
/** The gradient of argument `I` of arguments `A` (negative or unknown indices: any argument's). */
type ArgGrad<A extends readonly unknown[], I> = `${I & number}` extends `-${string}` ? GradOf<A[number]> : I extends keyof A ? GradOf<A[I]> : GradOf<A[number]>;
/**
 * What `grad` gives for arguments `A` and `argnums` `N`: the gradient of argument N (default 0),
 * or for an array of argnums the tuple of their gradients.
 */
export type GradsOf<A extends readonly unknown[], N> = N extends readonly number[]
  ? { -readonly [K in keyof N]: ArgGrad<A, N[K]> }
  : N extends number
    ? ArgGrad<A, N>
    : ArgGrad<A, 0>;
type Picked<A extends unknown[], N> = GradsOf<A, N>;

/**
 * The value of a scalar program and its gradient: a program returning `[value, gradient]`, the
 * gradient with respect to argument(s) `argnums` shaped like it (see `grad`). With `hasAux`
 * the program returns `[value, aux]` and this gives `[[value, aux], gradient]`.
 */
export function valueAndGrad<A extends unknown[], R, const O extends GradOptions = {}>(
  f: (...args: A) => Gen<R>,
  options?: O,
): (...args: A) => Gen<[R, Picked<A, O["argnums"]>]> {
  checkProgram("valueAndGrad", f);
  checkOptions("valueAndGrad", options, GRAD_OPTIONS);
  const argnums = options?.argnums ?? 0;
  const hasAux = options?.hasAux === true;
  return markProgram("valueAndGrad", function* valueAndGradProgram(...args: A) {
    const [value, grads, aux] = reverseGrad("valueAndGrad", f, args, argnums, hasAux);
    return (hasAux ? [[value, aux], grads] : [value, grads]) as [R, Picked<A, O["argnums"]>];
  });
}

/**
 * The gradient of a scalar-valued program with respect to argument `argnums` (default 0; a
 * negative one counts from the end), or a tuple of gradients for an array of argnums. Each
 * gradient has its argument's structure and type: a number for a number, a tensor for a tensor,
 * the same tree for a pytree. With `hasAux` the program returns `[value, aux]` and this gives
 * `[gradient, aux]`.
 */
export function grad<A extends unknown[], R, const O extends GradOptions = {}>(
  f: (...args: A) => Gen<R>,
  options?: O,
): (...args: A) => Gen<GradResult<A, R, O>> {
  checkProgram("grad", f);
  checkOptions("grad", options, GRAD_OPTIONS);
  const argnums = options?.argnums ?? 0;
  const hasAux = options?.hasAux === true;
  return markProgram("grad", function* gradProgram(...args: A) {
    const [, grads, aux] = reverseGrad("grad", f, args, argnums, hasAux);
    return (hasAux ? [grads, aux] : grads) as GradResult<A, R, O>;
  });
}

/**
 * A program's result split into the output to differentiate and its aux data (hasAux: the
 * program returns `[output, aux]`); the aux data's values of `trace` are replaced by their
 * primal values: it is data, not differentiated at this level.
 */
export function splitAux(name: string, out: unknown, hasAux: boolean, trace: ReverseTrace): [unknown, unknown] {
  if (!hasAux) return [out, undefined];
  if (!Array.isArray(out) || out.length !== 2)
    throw new TransformError(
      `${name}: with hasAux: true the program must return a pair [value, aux], got ` +
        `${Array.isArray(out) ? `an array of ${out.length} item(s)` : out === undefined || out === null ? String(out) : isLeaf(out) ? (isNumberLike(out) ? "a number" : `a tensor of shape ${fmt(shapeOf(out))}`) : typeof out === "object" ? "an object" : `a ${typeof out}`}; ` +
        "return [value, aux], or leave hasAux out",
    );
  return [out[0], mapLeaves(out[1], (v) => (trace.owns(v) ? v.value : v))];
}

/** [value, gradient(s), aux] of a scalar program with respect to the arguments `argnums` (aux: undefined without hasAux). */
export function reverseGrad(
  name: string,
  f: AnyProgram,
  args: readonly unknown[],
  argnums: number | readonly number[],
  hasAux = false,
): [Value, unknown, unknown] {
  const nums = checkArgnums(name, argnums, args.length);
  return withTrace(new ReverseTrace(name, cotangentSum), (trace) => {
    const flats: Flat[] = [];
    const inputs: ReverseBox[][] = [];
    const boxedArgs = args.slice();
    for (const i of nums) {
      const flat = differentiable(name, args[i], i);
      const boxes = flat.leaves.map((leaf) => trace.input(leaf));
      flats.push(flat);
      inputs.push(boxes);
      boxedArgs[i] = flat.rebuild(boxes);
    }
    const [result, aux] = splitAux(name, runToEnd(name, f, boxedArgs), hasAux, trace);
    const out = checkScalar(name, result);
    const value = trace.owns(out) ? out.value : out;
    const adj = trace.backward([out], [onesLike(value)]);
    const grads = flats.map((flat, k) => flat.rebuild(inputs[k]!.map((box) => gradientFor(box.value, adj.of(box)))));
    trace.release();
    return [value, typeof argnums === "number" ? grads[0] : grads, aux];
  });
}
