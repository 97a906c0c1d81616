// The effects programs yield for operations: a primitive applied to operands, or a composite
// operation written in direct style over primitives (softmax, mean, ...).
import { Effect } from "./effect.ts";
import type { Primitive } from "./primitive.ts";
import { bind } from "./trace.ts";
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
for (const op of [PrimitiveOp, CompositeOp]) Object.defineProperties(op.prototype, operationHints());
