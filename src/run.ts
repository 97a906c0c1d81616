// run(program, ...args): evaluates a program with the handler stack as it is (at top level,
// plain evaluation) and returns its result.
import { drive } from "../effects/driver.ts";
import type { Effect } from "../effects/effect.ts";
import { EffectError } from "./errors.ts";
import { checkResult } from "./misuse.ts";

/** A differentiable program: a generator function that yields effects. */
export type ProgramFn<A extends unknown[] = never[], R = unknown> = (...args: A) => Generator<Effect, R, unknown>;

/**
 * Runs a program (a generator function, or what a transformation made of one) with `args` under
 * the handlers in place — plain evaluation at top level — and returns its result.
 */
export function run<A extends unknown[], R>(program: (...args: A) => Generator<Effect, R, unknown>, ...args: A): R {
  if (typeof program !== "function")
    throw new EffectError(`run: expected a generator function (function* ...), got ${typeof program}`);
  const gen = program(...args);
  if (gen === null || typeof gen !== "object" || typeof (gen as { next?: unknown }).next !== "function")
    throw new EffectError(
      `run: ${program.name || "the program"} returned ${gen === undefined ? "undefined" : typeof gen}, not a generator; ` +
        "write programs as generator functions: function* f(x) { return yield* sin(x) }",
    );
  return checkResult("run", drive(gen));
}
