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
export class Performed<R> extends Effect<R> {
  declare private readonly prim: Primitive<unknown>;
  constructor(prim: Primitive<unknown>, value: R) {
    super();
    this.prim = prim;
    this.done = true;
    this.value = value;
  }
  get name(): string {
    return this.prim.name;
  }
  perform(): R {
    return this.value as R;
  }
  override next(): IteratorResult<Effect, R> {
    return this as unknown as IteratorResult<Effect, R>;
  }
  override [Symbol.iterator](): Iterator<Effect, R, unknown> {
    return this;
  }
}

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
