// Staging (Lantern's LMS, for jit): instead of computing, the handler records each operation
// into a typed SSA program. It is installed as the *dynamic* handler: every operation
// performed while it is innermost comes to it, even one on constants (which it folds).
import { TransformError } from "../src/errors.ts";
import { constAtom, type Atom, type Block, type Eqn, type Var } from "./staged-program.ts";
import { abstractOf } from "./abstract.ts";
import type { DType } from "../src/tensor/tensor.ts";
import type { Abstract, Primitive } from "./primitive.ts";
import { Trace, withTrace } from "./trace.ts";
import { Traced, type Value } from "./value.ts";
import { anyOnDevice, devicesInUse, runOnDevice } from "./device.ts";

const CAPTURED = Symbol("captured");
/** Whether `e` says a staged block read a value of a transformation above it through a closure. */
export const isCaptureError = (e: unknown): boolean => typeof e === "object" && e !== null && CAPTURED in e;
/** Whether the value `e` says was captured belongs to a transformation still running (one enclosing the jit). */
export const capturedFromEnclosing = (e: unknown): boolean => isCaptureError(e) && (e as { [CAPTURED]: Trace })[CAPTURED].active;

/** A value of the staged program: it has a shape and a dtype but no number yet. */
export class StagedValue extends Traced {
  /**
   * A staged value is its own operand atom (`{ kind: "var", v }`): equations reference it rather
   * than one more object per read or per value (a million-operation program has millions).
   */
  readonly kind = "var";
  constructor(
    trace: StagingTrace,
    readonly v: Var,
  ) {
    super(trace);
  }
  get shape(): readonly number[] {
    return this.v.shape;
  }
  get dtype(): DType {
    return this.v.dtype;
  }
  override get hasInner(): boolean {
    return false;
  }
  override get numberLike(): boolean {
    return this.v.scalar;
  }
  get inner(): Value {
    throw new TransformError(
      "primal: inside jit a value has no concrete number yet (the program is being staged); branch " +
        "and loop on it with cond, whileLoop and scan instead of if/while",
    );
  }
}

export class StagingTrace extends Trace {
  readonly name = "jit";
  private nextId = 0;
  /** The blocks being recorded; equations go to the innermost. */
  private readonly open: Eqn[][] = [[]];

  newVar(shape: readonly number[], dtype: DType, scalar: boolean): Var {
    return { id: this.nextId++, shape: shape.slice(), dtype, scalar };
  }

  /** A variable holding a JS object of the generated code (a closure or an accumulator). */
  newOpaque(): Var {
    return { ...this.newVar([], "float64", false), fn: true };
  }

  owns(v: unknown): v is StagedValue {
    return v instanceof StagedValue && v.trace === this;
  }

  /** An operand as an atom: a variable of this program or a constant. */
  atom(v: Value): Atom {
    if (this.owns(v)) return v;
    if (v instanceof Traced)
      throw Object.assign(
        new TransformError(
          `jit: the program uses a traced value of an enclosing ${v.trace.name} that it did not receive as an ` +
            "argument (captured by a closure); pass it to the jitted program as an argument (to cond, scan " +
            "and fixpoint, as an operand or argument)",
        ),
        { [CAPTURED]: v.trace },
      );
    return constAtom(v);
  }

  /** A new staged value for a variable. */
  value(v: Var): StagedValue {
    return new StagedValue(this, v);
  }

  push(e: Eqn): void {
    this.open[this.open.length - 1]!.push(e);
  }

  /** Records the equations `body` performs into a block of their own. */
  block(inputs: readonly Var[], body: () => readonly Value[]): Block {
    this.open.push([]);
    try {
      const outputs = body().map((v) => this.atom(v));
      return { inputs, eqns: this.open[this.open.length - 1]!, outputs };
    } finally {
      this.open.pop();
    }
  }

  /** The top-level block, once tracing is done. */
  topEquations(): Eqn[] {
    return this.open[0]!;
  }

  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    const n = args.length;
    const atoms = new Array<Atom>(n);
    const abstracts = new Array<Abstract>(n);
    let constant = true;
    for (let i = 0; i < n; i++) {
      const a = (atoms[i] = this.atom(args[i]!));
      // (a variable is its own abstract value)
      if (a.kind === "var") {
        abstracts[i] = a.v;
        constant = false;
      } else abstracts[i] = abstractOf(a.value);
    }
    if (constant) return devicesInUse && anyOnDevice(args) ? runOnDevice(prim, args, params) : prim.impl(args, params); // constant folding
    if (prim.inline) return prim.inline(args, params); // a program applied as one primitive: stage its operations
    // The output's shape, dtype and number-ness from the operands' (abstract evaluation, with the
    // kernel's errors for bad shapes): no kernel runs.
    const t = prim.abstractEval(abstracts, params);
    const out: Var = { id: this.nextId++, shape: t.shape, dtype: t.dtype, scalar: t.scalar };
    this.push({ kind: "prim", prim: prim as Primitive<unknown>, inputs: atoms, params, out });
    return this.value(out);
  }
}

/**
 * The abstract value of a program's result, found by staging it on variables (no kernel runs):
 * the abstract evaluation of a program applied as one primitive (customVjp, checkpoint).
 */
export function stagedAbstract(args: readonly Abstract[], program: (args: readonly Value[]) => Value): Abstract {
  return withTrace(
    new StagingTrace(),
    (trace) => {
      const out = program(args.map((a) => trace.value(trace.newVar(a.shape, a.dtype, a.scalar))));
      return trace.owns(out) ? out.v : abstractOf(out);
    },
    true,
  );
}
