// A sub-program call the driver runs in a frame of its own: `yield* call(f, ...args)` gives
// what `yield* f(...args)` gives, but the caller waits on the driver's heap stack instead of
// delegating. With `yield*` every level of a recursion is a generator on the native stack, which
// overflows at a few thousand levels, and whenever the innermost program waits for the driver
// its resume passes through every level (O(n²) for a recursion that waits once per level); with
// `call` a resume reaches the running frame directly, so recursion of any depth runs in linear
// time and constant native stack.
import { EffectError } from "../src/errors.ts";
import { Effect } from "./effect.ts";

export class Call<R = unknown> extends Effect<R> {
  constructor(
    private readonly f: (...args: never[]) => Iterator<unknown, R, unknown>,
    private readonly args: readonly unknown[],
  ) {
    super();
  }

  get name(): string {
    return `call(${this.f.name || "anonymous"})`;
  }

  override get performsInPlace(): boolean {
    return false;
  }

  /** The callee's generator, for the driver to run in a new frame. */
  start(): Iterator<unknown, R, unknown> {
    const gen = (this.f as (...args: unknown[]) => unknown)(...this.args);
    if (gen === null || typeof gen !== "object" || typeof (gen as { next?: unknown }).next !== "function")
      throw new EffectError(
        `${this.name}: the function returned ${gen === undefined ? "undefined" : gen === null ? "null" : typeof gen}, not a generator; ` +
          "call takes a generator function (function* f(x) { ... })",
      );
    return gen as Iterator<unknown, R, unknown>;
  }

  /** Only the driver runs a call (it needs the frame stack); nothing else performs one. */
  perform(): R {
    throw new EffectError(`${this.name} was performed outside the driver; yield it from a program run by run() or a transformation`);
  }
}

/**
 * Calls a sub-program in a frame of its own on the driver's stack: `yield* call(f, a, b)` is
 * `yield* f(a, b)` without the cost per level of nesting. Use it for recursion (trees, deep
 * recursive definitions): any depth runs in linear time, under every transformation.
 * Errors thrown inside `f` surface in the caller at its `yield*`, as with `yield* f(a, b)`.
 */
export function call<A extends unknown[], R>(f: (...args: A) => Generator<Effect, R, unknown>, ...args: A): Call<R> {
  if (typeof f !== "function") throw new EffectError(`call: expected a generator function, got ${f === null ? "null" : typeof f}`);
  return new Call<R>(f as unknown as (...args: never[]) => Iterator<unknown, R, unknown>, args);
}
