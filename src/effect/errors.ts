// yieldiff's errors in Effect's two channels: every error yieldiff throws on purpose (a class
// with a `_tag`) becomes a typed failure, so `Effect.catchTag("ShapeError", ...)` works; anything
// else thrown (a TypeError in a model, a stack overflow, a bug) is a defect.
import { Effect } from "effect";
import type { Effect as Op } from "../../effects/effect.ts";
import { CheckpointError } from "../checkpoint.ts";
import {
  BackendError,
  DTypeError,
  EffectError,
  EscapeError,
  IndexError,
  ShapeError,
  TransformError,
  ValueError,
  type AnyYieldiffError,
} from "../errors.ts";
import { run } from "../run.ts";

export type { AnyYieldiffError };

/** Every tagged error yieldiff can fail with: the operation errors and `CheckpointError`. */
export type YieldiffFailure = AnyYieldiffError | CheckpointError;

const OPERATION_ERRORS = [ShapeError, DTypeError, IndexError, EffectError, ValueError, EscapeError, TransformError, BackendError] as const;

/** True for the errors of operations and transformations (`AnyYieldiffError`). */
export const isOperationError = (e: unknown): e is AnyYieldiffError => OPERATION_ERRORS.some((C) => e instanceof C);

/** True for every tagged error yieldiff fails with (`YieldiffFailure`). */
export const isYieldiffFailure = (e: unknown): e is YieldiffFailure => isOperationError(e) || e instanceof CheckpointError;

/**
 * Runs `f` (synchronous code that may throw yieldiff's errors) as an Effect: the errors `is`
 * accepts are failures, anything else `f` throws is a defect.
 */
export function attempt<A>(f: () => A): Effect.Effect<A, YieldiffFailure>;
export function attempt<A, E>(f: () => A, is: (e: unknown) => e is E): Effect.Effect<A, E>;
export function attempt<A>(f: () => A, is: (e: unknown) => boolean = isYieldiffFailure): Effect.Effect<A, unknown> {
  return Effect.suspend(() => {
    try {
      return Effect.succeed(f());
    } catch (e) {
      return is(e) ? Effect.fail(e) : Effect.die(e);
    }
  });
}

/**
 * `run(program, ...args)` as an Effect. The failure channel is the union of yieldiff's tagged
 * operation errors, so each can be caught by its tag:
 *
 * ```ts
 * runEffect(f, x).pipe(Effect.catchTag("ShapeError", (e) => Effect.succeed(fallback)))
 * ```
 *
 * The program runs synchronously when the Effect runs (each run of the Effect runs it again).
 * Anything else thrown inside the program (a `TypeError`, a bug) is a defect.
 */
export const runEffect = <A extends unknown[], R>(
  program: (...args: A) => Generator<Op, R, unknown>,
  ...args: A
): Effect.Effect<R, AnyYieldiffError> => attempt(() => run(program, ...args), isOperationError);
