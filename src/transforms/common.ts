// Pieces shared by the transformations: checking programs, arguments and results; a gradient in its input's kind.
import { drive } from "../../effects/driver.ts";
import type { Effect } from "../../effects/effect.ts";
import { Traced, dtypeOf, shapeOf, type Value } from "../../effects/value.ts";
import { DTypeError, EffectError, TransformError, fmt, show } from "../errors.ts";
import { flatten, type Flat } from "../pytree.ts";
import { sizeOf } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { cast } from "../primitives/cast.ts";
import { asNumber, isNumberLike, zerosLike } from "../number-kind.ts";
import { checkResult, unperformedOperand } from "../misuse.ts";

export type Gen<R> = Generator<Effect, R, unknown>;
/** Internal: any program, whatever its parameters (the public signatures stay precise). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProgram = (...args: any[]) => Gen<unknown>;

/** Calls a program and checks that it really made a generator. */
export const start = <R>(name: string, f: AnyProgram, args: readonly unknown[]): Gen<R> => {
  const gen = (f as (...a: unknown[]) => Gen<R>)(...args);
  if (gen === null || typeof gen !== "object" || typeof (gen as { next?: unknown }).next !== "function")
    throw new EffectError(
      `${name}: the program returned ${gen === undefined ? "undefined" : typeof gen}, not a generator; ` +
        "transformations take generator functions (function* f(x) { ... })",
    );
  return gen;
};

/**
 * Runs a program to its end with the handlers as they are; its result must not hold an
 * operation or a generator object it forgot to perform (checked once, at the end).
 */
export const runToEnd = <R>(name: string, f: AnyProgram, args: readonly unknown[]): R => checkResult(name, drive(start<R>(name, f, args)));

export const checkProgram = (name: string, f: unknown): void => {
  if (typeof f !== "function") throw new EffectError(`${name}: expected a generator function, got ${typeof f}`);
};

/** Normalizes argnums against the call's arguments; a negative one counts from the end (as JAX). */
export const checkArgnums = (name: string, argnums: number | readonly number[], nargs: number): number[] => {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  return list.map((i) => {
    if (!Number.isInteger(i) || i < -nargs || i >= nargs)
      throw new TransformError(
        `${name}: argnums ${show(argnums)} names argument ${i}, but the program was called with ${nargs} argument(s); ` +
          `give an index in [${-nargs}, ${nargs - 1}] (negative ones count from the end)`,
      );
    return i < 0 ? i + nargs : i;
  });
};

/** Flattens a differentiated argument; it must hold at least one float leaf. */
export const differentiable = (name: string, arg: unknown, index: number): Flat => {
  const flat = flatten(arg);
  const notRun = flat.leaves.length === 0 ? unperformedOperand(name, arg, false) : undefined;
  if (notRun !== undefined) throw new EffectError(`${name}: argument ${index} is ${notRun}`);
  if (flat.leaves.length === 0)
    throw new DTypeError(
      `${name}: argument ${index} is ${describe(arg)}, which has no float values to differentiate; ` +
        "pass a number, a Tensor, or arrays/objects of them (or choose other argnums)",
    );
  return flat;
};

const describe = (x: unknown): string =>
  x === null ? "null" : Array.isArray(x) ? "an array without numbers or tensors" : typeof x === "object" ? "an object without numbers or tensors" : `a ${typeof x}`;

/** A gradient for an input: zero when nothing flowed, a number for a number input. */
export const gradientFor = (input: Value, adjoint: Value | null): Value => {
  if (adjoint === null) return zerosLike(input);
  if (isNumberLike(input)) return asNumber(adjoint);
  // A gradient has its argument's dtype (a float64 operand may have promoted the adjoint).
  return cast(adjoint, dtypeOf(input));
};

/** Checks that a program's result is a scalar value, for grad. */
export const checkScalar = (name: string, out: unknown): Value => {
  if (!(typeof out === "number" || out instanceof Tensor || out instanceof Traced))
    throw new TransformError(
      `${name}: the program returned ${out === undefined ? "undefined" : Array.isArray(out) ? "an array" : typeof out}; ` +
        "grad needs a scalar (a number or a size-1 tensor) — use vjp for other outputs",
    );
  const s = shapeOf(out);
  if (sizeOf(s) !== 1)
    throw new TransformError(
      `${name}: the program returned shape ${fmt(s)}; grad needs a scalar (a number or a size-1 tensor) — ` +
        "reduce it (sum, mean) or use vjp or jacrev for non-scalar outputs",
    );
  return out;
};
