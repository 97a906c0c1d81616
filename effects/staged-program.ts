// A staged program's data: an SSA list of equations over typed variables, with static shapes.
// The staging handler (./stage.ts) records it; its analyses, printer and code generation are in
// src/staging/ (ir.ts re-exports these types with them).
import type { Primitive } from "./primitive.ts";
import type { Value } from "./value.ts";
import type { DType } from "../src/tensor/tensor.ts";

/** A variable of the staged program. `scalar`: at run time a JS number (not a 0-d tensor). */
export interface Var {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly scalar: boolean;
  /** A JS object of the generated code (a closure or an accumulator), not a number or tensor. */
  readonly fn?: boolean;
}

/** An operand: a variable, or a constant captured at trace time. */
export type Atom = { readonly kind: "var"; readonly v: Var } | { readonly kind: "const"; readonly value: Value };

export interface PrimEqn {
  readonly kind: "prim";
  readonly prim: Primitive<unknown>;
  readonly inputs: readonly Atom[];
  readonly params: unknown;
  readonly out: Var;
}

/** A sub-program: its inputs, its equations, its outputs. */
export interface Block {
  readonly inputs: readonly Var[];
  readonly eqns: Eqn[];
  readonly outputs: readonly Atom[];
}

/** if (pred) then-block else else-block, both over the same operands, giving `outs`. */
export interface CondEqn {
  readonly kind: "cond";
  readonly pred: Atom;
  readonly operands: readonly Atom[];
  readonly then: Block;
  readonly else: Block;
  readonly outs: readonly Var[];
}

/**
 * A multi-way branch (switchCase): runs `branches[k]` over the operands, k the index (an
 * integer) clamped to the branches, giving `outs`.
 */
export interface SwitchEqn {
  readonly kind: "switch";
  readonly index: Atom;
  readonly operands: readonly Atom[];
  readonly branches: readonly Block[];
  readonly outs: readonly Var[];
}

/**
 * while (cond(carry)) carry = body(carry). With `collect`, the body has one more output (a
 * pullback closure) that is not carried but appended to a list, the last of `outs`.
 */
export interface WhileEqn {
  readonly kind: "while";
  readonly init: readonly Atom[];
  readonly cond: Block;
  readonly body: Block;
  readonly outs: readonly Var[];
  readonly collect?: boolean;
}

/**
 * for t < length: [carry, y_t] = body(carry, x_t); outs = [...carry, ...stacked ys]. `reverse`:
 * t runs from length − 1 down to 0 (the ys still stacked in t order). length −1: the length of
 * the first xs at run time (a list of closures). An x or y that is a closure (`fn`) is an
 * element of a JS list rather than a row of a tensor.
 */
export interface ScanEqn {
  readonly kind: "scan";
  readonly length: number;
  readonly reverse?: boolean;
  readonly init: readonly Atom[];
  readonly xs: readonly Atom[];
  readonly body: Block;
  readonly outs: readonly Var[];
}

/**
 * A recursive function (Lantern's FUN): `body` is defined once as function `fn` — its inputs
 * are the parameters, and inside it CallEqns with the same `fn` are the recursive calls — then
 * applied to `args`, giving `outs`.
 */
export interface FixEqn {
  readonly kind: "fix";
  readonly fn: number;
  readonly body: Block;
  readonly args: readonly Atom[];
  readonly outs: readonly Var[];
}

/** A call of the recursive function `fn` from inside its own body. */
export interface CallEqn {
  readonly kind: "call";
  readonly fn: number;
  readonly args: readonly Atom[];
  readonly outs: readonly Var[];
}

/**
 * A closure: `body` as a function value that reads the enclosing block's variables when it is
 * applied later (reverse mode keeps a pullback this way, its residuals captured by scope).
 */
export interface LambdaEqn {
  readonly kind: "lambda";
  readonly body: Block;
  readonly out: Var;
}

/** Applies a closure made by a LambdaEqn. */
export interface ApplyEqn {
  readonly kind: "apply";
  readonly fn: Atom;
  readonly args: readonly Atom[];
  readonly outs: readonly Var[];
}

/**
 * Gradient accumulators (Lantern's `x.d += ...`): a staged recursion's pullback closures add a
 * shared parameter's cotangent into one buffer instead of returning it up the call tree.
 * `accumulator` makes one; `accumulate` adds into it in place (an effect: never eliminated);
 * `readAccumulator` gives the sum (zeros if nothing was added) and clears it for the next pass.
 */
export interface AccumulatorEqn {
  readonly kind: "accumulator";
  readonly out: Var;
}
export interface AccumulateEqn {
  readonly kind: "accumulate";
  readonly acc: Atom;
  readonly value: Atom;
}
export interface ReadAccumulatorEqn {
  readonly kind: "readAccumulator";
  readonly acc: Atom;
  readonly out: Var;
}

export type Eqn =
  | PrimEqn
  | CondEqn
  | SwitchEqn
  | WhileEqn
  | ScanEqn
  | FixEqn
  | CallEqn
  | LambdaEqn
  | ApplyEqn
  | AccumulatorEqn
  | AccumulateEqn
  | ReadAccumulatorEqn;

export const varAtom = (v: Var): Atom => ({ kind: "var", v });
export const constAtom = (value: Value): Atom => ({ kind: "const", value });
