// The effects programs yield for operations: a primitive applied to operands, or a composite
// operation written in direct style over primitives (softmax, mean, ...).
import { Effect, atProgramLine } from "./effect.ts";
import type { Primitive } from "./primitive.ts";
import { bind, bindElementwise, type ScalarFunction } from "./trace.ts";
import type { Value } from "./value.ts";
import { operationHints } from "../src/misuse.ts";

export class PrimitiveOp<R extends Value = Value, P = undefined> extends Effect<R> {
  // declared, not defined (see Effect)
  declare readonly prim: Primitive<P>;
  declare readonly args: readonly Value[];
  declare readonly params: P;
  constructor(prim: Primitive<P>, args: readonly Value[], params: P) {
    super();
    this.prim = prim;
    this.args = args;
    this.params = params;
  }
  get name(): string {
    return this.prim.name;
  }
  perform(): R {
    return bind(this.prim, this.args, this.params) as R;
  }
}

/**
 * Performs an elementwise operation (of one operand, `b` undefined, or two) made by the program
 * while a driver runs it, checking its operands (called by the function that makes it, from the
 * program's line): an error points at that line, as one thrown at `yield*`.
 */
export const performNow = (prim: Primitive<undefined>, code: number, scalar: ScalarFunction, a: unknown, b: unknown): Value => {
  try {
    return bindElementwise(prim, code, scalar, a, b);
  } catch (error) {
    throw atProgramLine(error, 2);
  }
};

/**
 * An operation performed where the program made it, while a driver runs the program (see
 * `inPlace` in effect.ts): `yield*` gets its result at once. Elementwise operations on numbers
 * and boxes take this path: no operand array kept, no dispatch at `yield*`.
 */
export interface Performed<R> extends Effect<R> {
  readonly prim: Primitive<unknown>;
}

// The methods, in a class of their own; objects are made by the function below, which takes this
// class's prototype (so they are Effects) without running any class constructor: a derived
// class must call Effect's constructor, which sets three fields, and this object needs one of
// them (`value`; `done` is always true, on the prototype). Made once per operation, so that
// matters: with it (and numbers checked first in src/ops.ts), the functions that make
// elementwise operations stay small enough for V8 to inline into the program: W1's `run` went
// from 1.7–3x to 1.2–1.7x W1-LOOP's in-place floor, a bare generator chain (measured in one
// process, old and new alternating; docs/benchmarks.md).
const PerformedMethods = class Performed<R> extends Effect<R> {
  declare readonly prim: Primitive<unknown>;
  get name(): string {
    return this.prim.name;
  }
  perform(): R {
    return this.value as R;
  }
  // The result is ready: the object is its own finished iterator result.
  override next(): IteratorResult<Effect, R> {
    return this as unknown as IteratorResult<Effect, R>;
  }
  override [Symbol.iterator](): Iterator<Effect, R, unknown> {
    return this;
  }
};

function makePerformed(this: { value: unknown; prim: Primitive<unknown> }, prim: Primitive<unknown>, value: unknown): void {
  this.value = value;
  this.prim = prim;
}
makePerformed.prototype = PerformedMethods.prototype;
// Always finished, never waited on: `done` is the prototype's, `inFlight` stays unset (Effect's
// next and [Symbol.iterator] read it; Performed has its own). Two fields set per operation, not
// four: `run` of W1's chain ~5% faster at best and by median, alternating in one process (Node 22).
Object.defineProperty(PerformedMethods.prototype, "done", { value: true, writable: true });

export const Performed = makePerformed as unknown as new <R>(prim: Primitive<unknown>, value: R) => Performed<R>;

export class CompositeOp<R> extends Effect<R> {
  constructor(
    readonly name: string,
    private readonly run: () => R,
  ) {
    super();
  }
  perform(): R {
    return this.run();
  }
}

// Used outside a program (printed, or in arithmetic), an operation says how to perform it.
for (const op of [PrimitiveOp, Performed, CompositeOp]) Object.defineProperties(op.prototype, operationHints());
