// Jacobians and Hessians from jvp and vjp. Results are assembled with operations, so these
// transformations differentiate again when nested. With pytree arguments and results, the
// Jacobian is a pytree of blocks as JAX's: the output's structure, each output leaf holding the
// differentiated argument's structure (a tuple of them for an array of argnums), each leaf of that
// the block d out_leaf / d in_leaf of shape [...outShape, ...inShape].
import { dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import * as lax from "../lax.ts";
import { flatten, type Flat } from "../pytree.ts";
import { sizeOf, sizeProblem } from "../tensor/shape.ts";
import { zeros } from "../tensor/create.ts";
import { Tensor, allocate } from "../tensor/tensor.ts";
import type { Out } from "../ops.ts";
import { markProgram } from "../misuse.ts";
import { checkOptions, type OptionSpec } from "../options.ts";
import { checkArgnums, checkProgram, differentiable, type AnyProgram, type Gen } from "./common.ts";
import { isNumberLike, zerosLike } from "../number-kind.ts";
import { jvpDirect } from "./forward.ts";
import { reverseGrad } from "./grad.ts";
import { vjpDirect } from "./vjp.ts";

/** Options of `jacfwd`, `jacrev` and `hessian`. */
export interface JacobianOptions {
  /** The argument(s) to differentiate: a number (default 0; negative counts from the end) or an array, for a tuple of blocks. */
  argnums?: number | readonly number[];
}

/** The options jacfwd, jacrev and hessian accept (any other key is a ValueError). */
export const JACOBIAN_OPTIONS: OptionSpec = { argnums: ["number", "array"] };

/** The Jacobian's type: the output's structure of the input's structure of blocks (a number from a number to a number). */
export type JacobianOf<In, R> = R extends Value ? JacobianIn<In, R> : { -readonly [K in keyof R]: JacobianOf<In, R[K]> };
type JacobianIn<In, R extends Value> = In extends Value ? Out<In, R> : { -readonly [K in keyof In]: JacobianIn<In[K], R> };
/** The differentiated arguments of `A` for `argnums` `N`: one argument, or a tuple of them for an array. */
export type ArgsAt<A extends readonly unknown[], N> = N extends readonly number[]
  ? { -readonly [K in keyof N]: N[K] extends keyof A ? A[N[K]] : A[number] }
  : N extends number
    ? `${N}` extends `-${string}` ? A[number] : N extends keyof A ? A[N] : A[number]
    : A[0];

/** The k-th unit vector shaped like x. */
const unit = (x: Value, k: number): Value => {
  if (isNumberLike(x)) return 1;
  const buf = allocate(dtypeOf(x), sizeOf(shapeOf(x)));
  buf[k] = 1;
  return new Tensor(buf, shapeOf(x));
};

/** A Jacobian block of shape [...outShape, ...inShape] must fit in a tensor: checked before its columns are computed. */
const checkJacobian = (name: string, outShape: readonly number[], inShape: readonly number[]): void => {
  const shape = [...outShape, ...inShape];
  const problem = sizeProblem(shape);
  if (problem !== undefined)
    throw new ShapeError(`${name}: the Jacobian of a program from ${fmt(inShape)} to ${fmt(outShape)} would have shape ${fmt(shape)}, which has ${problem}`);
};

/** The differentiated arguments, flattened: their leaves in order, and the program of them alone. */
interface Inputs {
  readonly nums: number[];
  readonly flats: Flat[];
  /** Every differentiated leaf, argument by argument. */
  readonly leaves: Value[];
  /** `f` with the differentiated arguments as its only arguments. */
  readonly g: AnyProgram;
}

function inputsOf(name: string, f: AnyProgram, args: readonly unknown[], argnums: number | readonly number[]): Inputs {
  const nums = checkArgnums(name, argnums, args.length);
  const flats = nums.map((i) => differentiable(name, args[i], i));
  const g = (...diff: unknown[]) => {
    const all = args.slice();
    nums.forEach((i, k) => (all[i] = diff[k]));
    return f(...all);
  };
  return { nums, flats, leaves: flats.flatMap((flat) => flat.leaves), g };
}

/** The leaves of one value per differentiated argument as those arguments (rebuilt). */
const asArgs = (inp: Inputs, leaves: readonly unknown[]): unknown[] => {
  let k = 0;
  return inp.flats.map((flat) => flat.rebuild(leaves.slice(k, (k += flat.leaves.length))));
};

/** Blocks per output leaf, per input leaf, assembled in JAX's structure. */
const assemble = (out: Flat, inp: Inputs, argnums: number | readonly number[], block: (j: number, l: number) => Value): unknown =>
  out.rebuild(
    out.leaves.map((_, j) => {
      const perArg = asArgs(inp, inp.leaves.map((_, l) => block(j, l)));
      return typeof argnums === "number" ? perArg[0] : perArg;
    }),
  );

/** Zeros of shape [...outShape, ...inShape] (a block with no columns or rows). */
const emptyBlock = (y: Value, x: Value): Value => zeros([...shapeOf(y), ...shapeOf(x)], dtypeOf(y));

/** Stacks results r_k (each of shape B) into shape [...B, ...A] (k runs over A, row-major). */
const stackLast = (results: Value[], outShape: readonly number[], inShape: readonly number[]): Value => {
  if (inShape.length === 0) return results[0]!;
  const columns = results.map((r) => lax.reshape(r, [...outShape, 1]));
  return lax.reshape(lax.concat(columns, outShape.length), [...outShape, ...inShape]);
};

const outputOf = (name: string, y: unknown): Flat => {
  const flat = flatten(y);
  if (flat.leaves.length === 0)
    throw new TransformError(`${name}: the program returned ${y === undefined ? "undefined" : typeof y} with no number or tensor in it; a Jacobian needs numbers or tensors (or pytrees of them)`);
  return flat;
};

/**
 * Jacobian by forward mode: one JVP per element of the differentiated arguments. For a function
 * from shape `A` to shape `B`, a tensor of shape `[...B, ...A]` (a number from a number to a
 * number); pytrees give pytrees of such blocks (see the top of this file). `argnums` (default 0)
 * picks the argument(s).
 */
export function jacfwd<A extends unknown[], R, const O extends JacobianOptions = {}>(
  f: (...args: A) => Gen<R>,
  options?: O,
): (...args: A) => Gen<JacobianOf<ArgsAt<A, O["argnums"]>, R>> {
  checkProgram("jacfwd", f);
  checkOptions("jacfwd", options, JACOBIAN_OPTIONS);
  return forwardJacobian("jacfwd", f as AnyProgram, options?.argnums ?? 0) as (...args: A) => Gen<JacobianOf<ArgsAt<A, O["argnums"]>, R>>;
}

/** `known`: the output leaves' shapes before any JVP runs (hessian: the gradient's), to check the blocks' sizes first. */
function forwardJacobian(name: string, f: AnyProgram, argnums: number | readonly number[], known?: (inputs: Inputs) => readonly (readonly number[])[]) {
  return markProgram(name, function* jacfwdProgram(...args: unknown[]) {
    const inp = inputsOf(name, f, args, argnums);
    if (known) for (const s of known(inp)) for (const x of inp.leaves) checkJacobian(name, s, shapeOf(x));
    const zeroTangents = inp.leaves.map(zerosLike);
    const diffArgs = asArgs(inp, inp.leaves);
    let out: Flat | undefined;
    // columns[l][j]: the tangents of output leaf j along each element of input leaf l
    const columns: Value[][][] = [];
    inp.leaves.forEach((x, l) => {
      columns.push([]);
      for (let k = 0; k < sizeOf(shapeOf(x)); k++) {
        const tangents = zeroTangents.slice();
        tangents[l] = unit(x, k);
        const [y, t] = jvpDirect(name, inp.g, diffArgs, asArgs(inp, tangents));
        if (out === undefined) {
          out = outputOf(name, y);
          for (const o of out.leaves) for (const xi of inp.leaves) checkJacobian(name, shapeOf(o), shapeOf(xi));
        }
        flatten(t).leaves.forEach((tj, j) => (columns[l]![j] ??= []).push(tj));
      }
    });
    // every differentiated leaf empty: the output's structure from one run
    out ??= outputOf(name, jvpDirect(name, inp.g, diffArgs, asArgs(inp, zeroTangents))[0]);
    const outLeaves = out.leaves;
    return assemble(out, inp, argnums, (j, l) => {
      const x = inp.leaves[l]!;
      const cols = columns[l]![j];
      return cols === undefined ? emptyBlock(outLeaves[j]!, x) : stackLast(cols, shapeOf(outLeaves[j]!), shapeOf(x));
    });
  });
}

/** Jacobian by reverse mode: one pullback per output element. Shaped as `jacfwd`'s. */
export function jacrev<A extends unknown[], R, const O extends JacobianOptions = {}>(
  f: (...args: A) => Gen<R>,
  options?: O,
): (...args: A) => Gen<JacobianOf<ArgsAt<A, O["argnums"]>, R>> {
  checkProgram("jacrev", f);
  checkOptions("jacrev", options, JACOBIAN_OPTIONS);
  const argnums = options?.argnums ?? 0;
  return markProgram("jacrev", function* jacrevProgram(...args: A) {
    const inp = inputsOf("jacrev", f as AnyProgram, args, argnums);
    const [y, pullback] = vjpDirect("jacrev", inp.g, asArgs(inp, inp.leaves));
    const out = outputOf("jacrev", y);
    for (const o of out.leaves) for (const x of inp.leaves) checkJacobian("jacrev", shapeOf(o), shapeOf(x));
    const zeroCts = out.leaves.map(zerosLike);
    // rows[j][l]: the cotangents of input leaf l for each element of output leaf j
    const rows: Value[][][] = [];
    for (let j = 0; j < out.leaves.length; j++) {
      const o = out.leaves[j]!;
      rows.push(inp.leaves.map(() => []));
      for (let k = 0; k < sizeOf(shapeOf(o)); k++) {
        const cts = zeroCts.slice();
        cts[j] = unit(o, k);
        const grads = yield* pullback(out.rebuild(cts));
        flatten(grads).leaves.forEach((g, l) => rows[j]![l]!.push(g));
      }
    }
    return assemble(out, inp, argnums, (j, l) => {
      const o = out.leaves[j]!, x = inp.leaves[l]!;
      const r = rows[j]![l]!;
      if (r.length === 0) return emptyBlock(o, x);
      if (isNumberLike(o)) return r[0]!; // the gradient itself, of the input's kind (a number for a number)
      return lax.reshape(lax.concat(r.map((g) => lax.reshape(g, [1, ...shapeOf(x)])), 0), [...shapeOf(o), ...shapeOf(x)]);
    }) as JacobianOf<ArgsAt<A, O["argnums"]>, R>;
  });
}

/**
 * Hessian of a scalar program: forward over reverse. For an argument of shape `A`, a tensor of
 * shape `[...A, ...A]` (a number for a number); for pytrees and arrays of argnums, the blocks in
 * the arguments' structure of the arguments' structure, as JAX's.
 */
export function hessian<A extends unknown[], const O extends JacobianOptions = {}>(
  f: (...args: A) => Gen<unknown>,
  options?: O,
): (...args: A) => Gen<JacobianOf<ArgsAt<A, O["argnums"]>, ArgsAt<A, O["argnums"]>>> {
  checkProgram("hessian", f);
  checkOptions("hessian", options, JACOBIAN_OPTIONS);
  const argnums = options?.argnums ?? 0;
  const gradient = function* (...args: A) {
    return reverseGrad("hessian", f as AnyProgram, args, argnums)[1];
  };
  // the gradient is shaped like the arguments: the Hessian's size is known before any column
  return forwardJacobian("hessian", gradient as AnyProgram, argnums, (inp) => inp.leaves.map(shapeOf)) as (
    ...args: A
  ) => Gen<JacobianOf<ArgsAt<A, O["argnums"]>, ArgsAt<A, O["argnums"]>>>;
}
