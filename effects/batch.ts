// Batching (vmap): a box holds a whole batch of values, stacked along axis 0. On an operation
// the handler applies the primitive's batching rule (the `batch` field of its record, see
// effects/primitive.ts) — an operation on the stacked values. Rules are operations, so every
// handler below sees (and can differentiate) them.
// vmap is one chain of three modules, each using only the ones before it: this handler;
// src/primitives/batching.ts, the shapes of rule primitives share and how a batch splits into
// examples; src/transforms/vmap.ts, which splits the arguments, installs this handler with
// those helpers, and stacks the results.
import { TransformError } from "../src/errors.ts";
import type { Primitive } from "./primitive.ts";
import { Trace, bind } from "./trace.ts";
import { Traced, dtypeOf, shapeOf, type Value } from "./value.ts";

export class BatchBox extends Traced {
  constructor(
    trace: BatchTrace,
    /** The stacked values: axis 0 is the batch. */
    readonly value: Value,
  ) {
    super(trace);
  }
  /** The shape of one example. */
  get shape(): readonly number[] {
    return shapeOf(this.value).slice(1);
  }
  get dtype() {
    return dtypeOf(this.value);
  }
  override get hasInner(): boolean {
    return false;
  }
  get inner(): Value {
    throw new TransformError(
      "primal: inside vmap a value stands for a whole batch, so there is no single concrete value " +
        "to branch on; express data-dependent choices with where(cond, a, b)",
    );
  }
}

/** How a batch splits into its examples and stacks back (operations: given by vmap). */
export interface Examples {
  /** Example `b` of a value stacked along axis 0. */
  exampleOf(v: Value, b: number): Value;
  /** Examples stacked along a new axis 0. */
  stack(examples: readonly Value[]): Value;
}

export class BatchTrace extends Trace {
  readonly name = "vmap";
  /** While ≥ 0, the program runs for this one example: see `perExample`. */
  private example = -1;
  constructor(
    readonly size: number,
    private readonly examples: Examples,
  ) {
    super();
  }

  override get substituting(): boolean {
    return this.example >= 0;
  }

  override substitute(v: Traced): Value {
    return this.example >= 0 && this.owns(v) ? this.examples.exampleOf(v.value, this.example) : v;
  }

  /**
   * Runs `prim` once per example and stacks the results, this level standing in each example
   * for its boxes — also for boxes the primitive's program reads through a closure (a customVjp
   * inside vmap that closes over the mapped value), which a batching rule could not see.
   */
  perExample<P>(prim: Primitive<P>, args: readonly Value[], params: P): BatchBox {
    if (this.size === 0)
      throw new TransformError(`vmap: ${prim.name} reads a mapped value through a closure, which needs at least one example; the batch is empty`);
    const results: Value[] = [];
    for (let b = 0; b < this.size; b++) {
      this.example = b;
      try {
        results.push(bind(prim, args, params));
      } finally {
        this.example = -1;
      }
    }
    return new BatchBox(this, this.examples.stack(results));
  }

  owns(v: unknown): v is BatchBox {
    return v instanceof BatchBox && v.trace === this;
  }

  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    if (this.example >= 0) return bind(prim, args.map((a) => (this.owns(a) ? this.examples.exampleOf(a.value, this.example) : a)), params);
    const values = new Array<Value>(args.length);
    const batched = new Array<boolean>(args.length);
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      batched[i] = this.owns(a);
      values[i] = batched[i] ? (a as BatchBox).value : a;
    }
    return new BatchBox(this, prim.batch(values, batched, params, this.size));
  }
}
