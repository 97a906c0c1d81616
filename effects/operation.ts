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
 * while a driver runs it (called by the function that makes it, from the program's line): an
 * error points at that line, as one thrown at `yield*`.
 */
export const performNow = (prim: Primitive<undefined>, code: number, scalar: ScalarFunction, a: Value, b: Value | undefined): Value => {
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

interface PerformedFields {
  inFlight: boolean;
  done: boolean;
  value: unknown;
  prim: Primitive<unknown>;
}

// A constructor function whose prototype inherits Effect's, not a subclass: a derived class must
// call Effect's constructor, which sets three fields that this one sets again. Made once per
// operation, so that matters: with it (and numbers checked first in src/ops.ts), the functions
// that make elementwise operations stay small enough for V8 to inline into the program: W1's
// `run` went from 1.7–3x to 1.2–1.7x W1-LOOP's in-place floor, a bare generator chain (measured
// in one process, old and new alternating; docs/benchmarks.md).
// (named Performed, as the class was: printed values and stacks show the name)
const PerformedOp = function Performed(this: PerformedFields, prim: Primitive<unknown>, value: unknown): void {
  this.inFlight = false;
  this.done = true;
  this.value = value;
  this.prim = prim;
};
PerformedOp.prototype = Object.create(Effect.prototype, {
  constructor: { value: PerformedOp, writable: true, configurable: true },
  name: {
    get(this: PerformedFields): string {
      return this.prim.name;
    },
    configurable: true,
  },
  perform: {
    value(this: PerformedFields): unknown {
      return this.value;
    },
    writable: true,
    configurable: true,
  },
  // The result is ready: the object is its own finished iterator result.
  next: {
    value(this: PerformedFields): PerformedFields {
      return this;
    },
    writable: true,
    configurable: true,
  },
  [Symbol.iterator]: {
    value(this: PerformedFields): PerformedFields {
      return this;
    },
    writable: true,
    configurable: true,
  },
});

export const Performed = PerformedOp as unknown as new <R>(prim: Primitive<unknown>, value: R) => Performed<R>;

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
