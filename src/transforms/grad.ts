// grad and valueAndGrad: run the program under a fresh reverse handler (shift on every
// operation), then reset: seed the output's adjoint with 1 and run the pending steps.
import { ReverseBox, ReverseTrace } from "../../effects/reverse.ts";
import { withTrace } from "../../effects/trace.ts";
import type { Value } from "../../effects/value.ts";
import type { Flat } from "../pytree.ts";
import { markProgram } from "../misuse.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { checkArgnums, checkProgram, checkScalar, differentiable, gradientFor, onesLike, runToEnd, type Gen, type AnyProgram } from "./common.ts";

/** Options of `grad` and `valueAndGrad`. */
export interface GradOptions {
  /** Which argument(s) to differentiate: a number, or an array for an array of gradients. */
  argnums?: number | readonly number[];
}

/** The options grad and valueAndGrad accept (any other key is a ValueError). */
export const GRAD_OPTIONS: OptionSpec = { argnums: ["number", "array"] };

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
 * gradient with respect to argument(s) `argnums` shaped like it (see `grad`).
 */
export function valueAndGrad<A extends unknown[], R, const O extends GradOptions = {}>(
  f: (...args: A) => Gen<R>,
  options?: O,
): (...args: A) => Gen<[R, Picked<A, O["argnums"]>]> {
  checkProgram("valueAndGrad", f);
  checkOptions("valueAndGrad", options, GRAD_OPTIONS);
  const argnums = options?.argnums ?? 0;
  return markProgram("valueAndGrad", function* valueAndGradProgram(...args: A) {
    return reverseGrad("valueAndGrad", f, args, argnums) as [R, Picked<A, O["argnums"]>];
  });
}

/**
 * The gradient of a scalar-valued program with respect to argument `argnums` (default 0), or a
 * tuple of gradients for an array of argnums. Each gradient has its argument's structure and
 * type: a number for a number, a tensor for a tensor, the same tree for a pytree.
 */
export function grad<A extends unknown[], R, const O extends GradOptions = {}>(
  f: (...args: A) => Gen<R>,
  options?: O,
): (...args: A) => Gen<Picked<A, O["argnums"]>> {
  checkProgram("grad", f);
  checkOptions("grad", options, GRAD_OPTIONS);
  const argnums = options?.argnums ?? 0;
  return markProgram("grad", function* gradProgram(...args: A) {
    return reverseGrad("grad", f, args, argnums)[1] as Picked<A, O["argnums"]>;
  });
}

/** [value, gradient(s)] of a scalar program with respect to the arguments `argnums`. */
export function reverseGrad(
  name: string,
  f: AnyProgram,
  args: readonly unknown[],
  argnums: number | readonly number[],
): [Value, unknown] {
  const nums = checkArgnums(name, argnums, args.length);
  return withTrace(new ReverseTrace(name), (trace) => {
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
    const out = checkScalar(name, runToEnd(name, f, boxedArgs));
    const value = trace.owns(out) ? out.value : out;
    const adj = trace.backward([out], [onesLike(value)]);
    const grads = flats.map((flat, k) => flat.rebuild(inputs[k]!.map((box) => gradientFor(box.value, adj[box.id]!))));
    return [value, typeof argnums === "number" ? grads[0] : grads];
  });
}
