// Reverse mode as delimited continuations (Lantern's shift/reset).
//
// When the program yields an operation on one of this handler's boxes (shift), the handler
// performs the primal work at the level below, hands the program a new box and resumes it
// (k(y)). What Lantern runs after k(y) returns — `x.d += rule(y.d)` — is kept, defunctionalized,
// on a heap stack: the box itself records its primitive and operands. When the program has
// returned, the driver (reset) seeds the output's adjoint and pops the stack, running each
// pending step. No recursion per effect: a program of any length differentiates.
import type { MaybeValue, Primitive } from "./primitive.ts";
import { Trace, bind, evaluatesNumbers, sealed } from "./trace.ts";
import { PrimalBox, type Value } from "./value.ts";

/** A primal value and the record of the step that made it (null for an input). */
export class ReverseBox extends PrimalBox {
  constructor(
    trace: ReverseTrace,
    value: Value,
    /** Index into the adjoint array of a backward pass. */
    readonly id: number,
    readonly prim: Primitive<unknown> | null,
    readonly args: readonly Value[] | null,
    /** The operands one level down (this handler's boxes unwrapped). */
    readonly primals: readonly Value[] | null,
    readonly params: unknown,
    /** Bit i set: operand i is a box of this trace (its cotangent is wanted). */
    readonly mask: number,
    readonly residuals: unknown,
  ) {
    super(trace, value);
  }
}

/**
 * How the backward pass sums two cotangents of one value (given by the transformation that
 * installs the handler: src/transforms/cotangent-sum.ts).
 */
export interface CotangentSum {
  /** a + b, performed as an operation (so that the handlers below differentiate it). */
  add(a: Value, b: Value): Value;
  /** Whether `sum` (of a and b) is a buffer of its own that nobody else holds. */
  fresh(sum: Value, a: Value, b: Value): boolean;
  /** acc += ct in place when both are concrete and alike; false (nothing done) otherwise. */
  addInPlace(acc: Value, ct: Value): boolean;
}

export class ReverseTrace extends Trace {
  /** The pending backward steps, in the order the program performed them. */
  private readonly pending: ReverseBox[] = [];
  private count = 0;

  constructor(
    readonly name: string,
    private readonly sum: CotangentSum,
  ) {
    super();
  }

  /** A box for an input of the transformation. */
  input(v: Value): ReverseBox {
    return new ReverseBox(this, v, this.count++, null, null, null, undefined, 0, undefined);
  }

  owns(v: Value): v is ReverseBox {
    return v instanceof ReverseBox && v.trace === this;
  }

  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    const n = args.length;
    const primals = new Array<Value>(n);
    let mask = 0;
    let numbers = true;
    for (let i = 0; i < n; i++) {
      let a = args[i]!;
      if (a instanceof ReverseBox && a.trace === this) {
        a = a.value;
        mask |= 1 << i;
      }
      primals[i] = a;
      if (typeof a !== "number") numbers = false;
    }
    let out: Value;
    let residuals: unknown;
    if (prim.reverse) ({ out, residuals } = prim.sealed ? sealed(this.level, prim, prim.reverse, [primals, params]) : prim.reverse(primals, params));
    // Plain numbers would reach evaluation anyway: skip the second dispatch.
    else out = numbers && evaluatesNumbers() ? prim.impl(primals, params) : bind(prim, primals, params);
    const box = new ReverseBox(this, out, this.count++, prim as Primitive<unknown>, args, primals, params, n <= MAX_MASKED ? mask : -1, residuals);
    this.pending.push(box);
    return box;
  }

  /**
   * Reset: seeds the adjoints of `roots` and runs the pending steps in reverse. Returns the
   * adjoint of every box by id (null = zero). Leaves the pending steps in place, so a pullback can run
   * it again.
   */
  backward(roots: readonly Value[], seeds: readonly Value[]): MaybeValue[] {
    const adj = new Array<MaybeValue>(this.count).fill(null);
    const owned = new Uint8Array(this.count);
    const sum = this.sum;
    roots.forEach((r, i) => {
      if (this.owns(r)) accumulate(sum, adj, owned, r.id, seeds[i]!);
    });
    const pending = this.pending;
    for (let k = pending.length - 1; k >= 0; k--) {
      const box = pending[k]!;
      const ct = adj[box.id]!;
      if (ct === null) continue;
      adj[box.id] = null; // its steps are done; let the garbage collector have it
      const args = box.args!;
      const wanted = box.mask >= 0 ? WANTED[box.mask]! : args.map((a) => this.owns(a));
      const prim = box.prim!;
      const cts = prim.sealed
        ? sealed(this.level, prim, prim.vjp, [ct, box.primals!, box.value, box.params, wanted, box.residuals])
        : prim.vjp(ct, box.primals!, box.value, box.params, wanted, box.residuals);
      for (let i = 0; i < args.length; i++) {
        const c = cts[i];
        if (c != null && wanted[i]) accumulate(sum, adj, owned, (args[i] as ReverseBox).id, c);
      }
    }
    return adj;
  }
}

const MAX_MASKED = 8;
const WANTED: readonly (readonly boolean[])[] = Array.from({ length: 1 << MAX_MASKED }, (_, m) =>
  Object.freeze(Array.from({ length: MAX_MASKED }, (_, i) => (m & (1 << i)) !== 0)),
);

/**
 * adj[id] += ct. The sum is computed with operations (so handlers below differentiate it),
 * except that a buffer this pass made itself, and nobody else holds, is added into in place.
 */
const accumulate = (sum: CotangentSum, adj: MaybeValue[], owned: Uint8Array, id: number, ct: Value): void => {
  const prev = adj[id]!;
  if (prev === null) adj[id] = ct;
  else if (owned[id] === 1 && sum.addInPlace(prev, ct)) return;
  else {
    const s = sum.add(prev, ct);
    adj[id] = s;
    owned[id] = sum.fresh(s, prev, ct) ? 1 : 0;
  }
};
