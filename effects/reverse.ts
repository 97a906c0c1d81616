// Reverse mode as delimited continuations (Lantern's shift/reset).
//
// When the program yields an operation on one of this handler's boxes (shift), the handler
// performs the primal work at the level below, hands the program a new box and resumes it
// (k(y)). What Lantern runs after k(y) returns — `x.d += rule(y.d)` — is kept, defunctionalized,
// on a heap stack: a record of the step (its primitive and operands). When the program has
// returned, the driver (reset) seeds the output's adjoint and pops the stack, running each
// pending step. No recursion per effect: a program of any length differentiates.
//
// The records are columns of typed arrays (effects/reverse-steps.ts): a scalar step costs a
// few array slots and nothing the garbage collector traces; only the box handed to the
// program is an object. Steps on tensors, with parameters or residuals keep an object each.
import { primitiveOfCode, type Primitive } from "./primitive.ts";
import { ADJ_ZERO, Adjoints, GENERAL, INPUT, MAX_MASKED, Steps, UNARY, WANTED, codeOf, columnarCode, kindOf, scalarCode, type GeneralStep } from "./reverse-steps.ts";
import { Trace, bind, evaluatesNumbers, sealed, type ScalarFunction } from "./trace.ts";
import { scalarRule } from "./scalar-rules.ts";
import { noteScalarStep, scalarBackward } from "./scalar-backward.ts";
import { PrimalBox, type Traced, type Value } from "./value.ts";

export type { Adjoints } from "./reverse-steps.ts";

/** A primal value and the index of the step that made it (an input's own index for an input). */
export interface ReverseBox extends PrimalBox {
  /** Index of the step that made it: its adjoint's index in a backward pass. */
  readonly id: number;
}

// Made once per scalar operation, so built as Performed is (effects/operation.ts): a constructor
// function that sets the three fields on an object with the class's prototype, without running
// the chain of derived constructors (ReverseBox, PrimalBox, Traced). W1 5–11% faster at best,
// old and new alternating in one process (Node 22 and 24).
const ReverseBoxMethods = class ReverseBox extends PrimalBox {
  declare readonly id: number;
};
function makeReverseBox(this: { trace: Trace; value: Value; id: number }, trace: ReverseTrace, value: Value, id: number): void {
  this.trace = trace;
  this.value = value;
  this.id = id;
}
makeReverseBox.prototype = ReverseBoxMethods.prototype;
export const ReverseBox = makeReverseBox as unknown as new (trace: ReverseTrace, value: Value, id: number) => ReverseBox;

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
  private readonly steps = Steps.acquire();
  /** Operands handed to a scalar kernel (it reads them during the call only). */
  private readonly one: number[] = [0];
  private readonly two: number[] = [0, 0];
  /** The last backward pass's adjoints (their arrays go to the next pass on release). */
  private adjoints: Adjoints | null = null;

  constructor(
    readonly name: string,
    private readonly sum: CotangentSum,
  ) {
    super();
  }

  /** A box for an input of the transformation. */
  input(v: Value): ReverseBox {
    return new ReverseBox(this, v, this.steps.input(v));
  }

  owns(v: Value): v is ReverseBox {
    return v instanceof ReverseBox && v.trace === this;
  }

  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    const n = args.length;
    // The common case: one or two plain numbers below this level, nothing staging them, a
    // primitive without parameters: a scalar step, kept in the typed columns.
    if (n <= 2 && n > 0 && params === undefined) {
      const step = this.scalarStep(prim as Primitive<unknown>, scalarCode(prim as Primitive<unknown>), null, args[0]!, n === 2 ? args[1]! : undefined);
      if (step !== undefined) return step;
    }
    return this.general(prim, args, params);
  }

  /** process's scalar steps, for an elementwise primitive (see Trace.elementwise). */
  override elementwise(prim: Primitive<undefined>, code: number, scalar: ScalarFunction, a: Value, b: Value | undefined): Value | undefined {
    return this.scalarStep(prim as Primitive<unknown>, columnarCode(code, prim as Primitive<unknown>), scalar, a, b);
  }

  /**
   * The box of a scalar step of the primitive of columnar code `c` (scalarCode; -1: none) on `a`
   * (and `b`), when they are numbers one level down and nothing stages them; else undefined.
   * `scalar` computes the output (null: the primitive's kernel, through a reused operand array).
   */
  private scalarStep(prim: Primitive<unknown>, c: number, scalar: ScalarFunction | null, a: Value, b: Value | undefined): Value | undefined {
    if (c < 0) return undefined;
    // Only this level's boxes have this trace (operands are numbers, tensors or boxes: checked).
    const x = typeof a === "object" && (a as Traced).trace === this ? (a as ReverseBox) : null;
    const xv = x === null ? a : x.value;
    if (typeof xv !== "number" || !evaluatesNumbers()) return undefined;
    if (b === undefined) {
      let out: Value;
      if (scalar !== null) out = scalar(xv, 0);
      else {
        this.one[0] = xv;
        out = prim.impl(this.one, undefined);
      }
      return typeof out === "number" ? new ReverseBox(this, out, this.steps.unary(c, x === null ? -1 : x.id, xv, out)) : undefined;
    }
    const y = typeof b === "object" && (b as Traced).trace === this ? (b as ReverseBox) : null;
    const yv = y === null ? b : y.value;
    if (typeof yv !== "number") return undefined;
    let out: Value;
    if (scalar !== null) out = scalar(xv, yv);
    else {
      this.two[0] = xv;
      this.two[1] = yv;
      out = prim.impl(this.two, undefined);
    }
    return typeof out === "number"
      ? new ReverseBox(this, out, this.steps.binary(c, x === null ? -1 : x.id, xv, y === null ? -1 : y.id, yv, out))
      : undefined;
  }

  /** Any other step: its operands, parameters and residuals kept in an object. */
  private general<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
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
    const step: GeneralStep = { prim: prim as Primitive<unknown>, args, primals, out, params, mask: n <= MAX_MASKED ? mask : -1, residuals };
    return new ReverseBox(this, out, this.steps.general(step));
  }

  /**
   * Reset: seeds the adjoints of `roots` and runs the pending steps in reverse. Returns the
   * adjoints (read an input's with `of(box)`). Leaves the pending steps in place, so a pullback
   * can run it again.
   */
  backward(roots: readonly Value[], seeds: readonly Value[]): Adjoints {
    const steps = this.steps;
    const adj = new Adjoints(steps.count, this.sum);
    this.adjoints = adj;
    roots.forEach((r, i) => {
      if (this.owns(r)) adj.add(r.id, seeds[i]!);
    });
    const { op, in0, in1, vals, consts } = steps;
    // Scalar operands may go to a rule in a reused array only when its operations evaluate at
    // once (nothing staging them could keep the array).
    const reuse = evaluatesNumbers();
    const one: number[] = [0];
    const two: number[] = [0, 0];
    const { state, num } = adj;
    // Runs of scalar steps with number cotangents go through the generated loop, when the rules'
    // operations would evaluate at once; it stops at any other step, which runs below.
    const fast = reuse ? scalarBackward() : null;
    for (let k = steps.count - 1; k >= 0; k--) {
      if (fast !== null && (k = fast(k, op, in0, in1, vals, consts, state, num, adj)) < 0) break;
      const s = state[k]!;
      if (s === ADJ_ZERO) continue;
      const o = op[k]!;
      const type = kindOf(o);
      if (type === INPUT) continue;
      const ct = adj.take(k, s);
      if (type === GENERAL) {
        this.generalStep(adj, steps.generalAt(k), ct);
        continue;
      }
      const code = codeOf(o);
      const i0 = in0[k]!;
      const x = i0 >= 0 ? vals[i0]! : consts[-1 - i0]!;
      if (reuse && typeof ct === "number") {
        // The rule's operations would evaluate at once on these numbers: its compiled form gives
        // the same numbers without an array of cotangents or a dispatch per operation.
        const i1 = type === UNARY ? -1 : in1[k]!;
        const mask = (i0 >= 0 ? 1 : 0) | (i1 >= 0 ? 2 : 0);
        if (mask === 0) continue; // made from constants only: no cotangent is wanted
        const rule = scalarRule(code, type === UNARY ? 1 : 2, mask);
        if (rule !== null) {
          noteScalarStep(o);
          const y = i1 >= 0 ? vals[i1]! : type === UNARY ? 0 : consts[-1 - i1]!;
          const out = vals[k]!;
          if (rule.first !== null) adj.add(i0, rule.first(ct, x, y, out));
          if (rule.second !== null) adj.add(i1, rule.second(ct, x, y, out));
          continue;
        }
      }
      const prim = primitiveOfCode(code);
      if (type === UNARY) {
        const primals = reuse && typeof ct === "number" ? one : [0];
        primals[0] = x;
        const cts = prim.vjp(ct, primals, vals[k]!, undefined, WANTED[i0 >= 0 ? 1 : 0]!, undefined);
        const c = cts[0];
        if (i0 >= 0 && c != null) adj.add(i0, c);
      } else {
        const i1 = in1[k]!;
        const primals = reuse && typeof ct === "number" ? two : [0, 0];
        primals[0] = x;
        primals[1] = i1 >= 0 ? vals[i1]! : consts[-1 - i1]!;
        const cts = prim.vjp(ct, primals, vals[k]!, undefined, WANTED[(i0 >= 0 ? 1 : 0) | (i1 >= 0 ? 2 : 0)]!, undefined);
        const c0 = cts[0];
        const c1 = cts[1];
        if (i0 >= 0 && c0 != null) adj.add(i0, c0);
        if (i1 >= 0 && c1 != null) adj.add(i1, c1);
      }
    }
    return adj;
  }

  /**
   * The pending steps and the last pass's adjoints will not be read again (the transformation has
   * taken its gradients and keeps no pullback): their columns go to the next reverse pass.
   */
  release(): void {
    this.steps.release();
    this.adjoints?.release();
    this.adjoints = null;
  }

  private generalStep(adj: Adjoints, step: GeneralStep, ct: Value): void {
    const { prim, args } = step;
    const wanted = step.mask >= 0 ? WANTED[step.mask]! : args.map((a) => this.owns(a));
    const cts = prim.sealed
      ? sealed(this.level, prim, prim.vjp, [ct, step.primals, step.out, step.params, wanted, step.residuals])
      : prim.vjp(ct, step.primals, step.out, step.params, wanted, step.residuals);
    for (let i = 0; i < args.length; i++) {
      const c = cts[i];
      if (c != null && wanted[i]) adj.add((args[i] as ReverseBox).id, c);
    }
  }
}
