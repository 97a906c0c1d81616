// The handler stack and dispatch. Each transformation invocation pushes a handler (a Trace)
// at a fresh level; an operation goes to the innermost handler that owns one of its operands
// (Autodidax's find_top_trace). That handler unwraps its own boxes and performs the primal
// work by calling `bind` again, which reaches the levels below: so the level below can
// differentiate that work too. Recursion here is bounded by the nesting depth of
// transformations, never by the number of effects.
import { EscapeError, TransformError } from "../src/errors.ts";
import { checkOperand } from "../src/misuse.ts";
import type { Primitive } from "./primitive.ts";
import { Traced, type Value } from "./value.ts";
import { anyOnDevice, devicesInUse, runOnDevice } from "./device.ts";

export abstract class Trace {
  /** Position in the handler stack; inner transformations have higher levels. */
  level = -1;
  /** False once the transformation that made this level has returned. */
  active = false;
  /** Names the transformation in error messages. */
  abstract readonly name: string;
  /** Gives an operation its meaning at this level. */
  abstract process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value;
  /**
   * Optional: a faster `process` for an elementwise primitive of one operand (`b` undefined) or
   * two, without parameters — `code` is its primitiveCode, `scalar` its function of numbers.
   * Gives what `process` would give, or undefined to leave the operation to `process`.
   */
  elementwise?(prim: Primitive<undefined>, code: number, scalar: ScalarFunction, a: Value, b: Value | undefined): Value | undefined;
  /**
   * True while this level substitutes concrete parts for its boxes and passes operations down
   * (vmap running a program once per example): reading its boxes is then no closure capture.
   */
  get substituting(): boolean {
    return false;
  }
  /** While substituting: the part that stands for this level's box `v` (else `v`). */
  substitute(v: Traced): Value {
    return v;
  }
}

/** Level 0: evaluation. Runs the kernel. */
class EvalTrace extends Trace {
  readonly name = "run";
  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    // A program on constants run inside transformations must not read their values either.
    // (no closure here: a closure would make every call allocate its context, sealed or not)
    // A GPU operand sends the operation to its device (devicesInUse: false until one exists);
    // a sealed program applied as one primitive runs its operations, each dispatched so.
    if (devicesInUse && prim.sealed !== true && anyOnDevice(args)) return runOnDevice(prim, args, params);
    return prim.sealed ? sealed(1, prim, prim.impl, [args, params]) : prim.impl(args, params);
  }
}

const evalTrace = new EvalTrace();
evalTrace.level = 0;
evalTrace.active = true;
const stack: Trace[] = [evalTrace];

/** The sealed level ranges (see `sealed` below), innermost last; declared before `bind` reads it. */
const seals: Seal[] = [];

/** A handler that wants every operation performed while it is innermost (staging). */
let dynamic: Trace = evalTrace;

/**
 * True when operations on plain numbers would reach the evaluation handler: no staging handler
 * wants them. Direct-style calls then compute scalars in place, exactly as evaluation would.
 */
export const evaluatesNumbers = (): boolean => dynamic === evalTrace;

/** The handler that receives operations on constants: evaluation, or a staging handler. */
export const dynamicTrace = (): Trace => dynamic;

/** Dispatches one operation to the handler that owns it. */
export function bind<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
  let top = dynamic;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof Traced) {
      const t = a.trace;
      if (!t.active) throw escaped(prim.name, a);
      if (t.level > top.level) top = t;
    }
  }
  if (seals.length !== 0) checkSeals(top);
  return top.process(prim, args, params);
}

/** An elementwise primitive's function of numbers (of one operand or two). */
export type ScalarFunction = (a: number, b: number) => number;

/**
 * `bind` of an elementwise primitive of one operand (`b` undefined) or two, without parameters,
 * on operands not yet checked (a binary operation's second operand is never undefined): the same
 * handler, the same checks, and the handler's `elementwise` fast path when it has one (no operand
 * array then).
 */
export function bindElementwise(prim: Primitive<undefined>, code: number, scalar: ScalarFunction, a: unknown, b: unknown): Value {
  let top = dynamic;
  // The operands are checked here, as they are told apart (one instanceof each for a box).
  if (a instanceof Traced) {
    const t = a.trace;
    if (!t.active) throw escaped(prim.name, a);
    if (t.level > top.level) top = t;
  } else if (typeof a !== "number") checkOperand(prim.name, a, b === undefined ? "operand" : "first operand");
  if (b instanceof Traced) {
    const t = b.trace;
    if (!t.active) throw escaped(prim.name, b);
    if (t.level > top.level) top = t;
  } else if (b !== undefined && typeof b !== "number") checkOperand(prim.name, b, "second operand");
  if (seals.length !== 0) checkSeals(top);
  if (top.elementwise !== undefined) {
    const out = top.elementwise(prim, code, scalar, a as Value, b as Value | undefined);
    if (out !== undefined) return out;
  }
  return top.process(prim, b === undefined ? [a as Value] : [a as Value, b as Value], undefined);
}

const escaped = (op: string, v: Traced): EscapeError =>
  new EscapeError(
    `${op}: an operand is a traced value of a ${v.trace.name} that has already returned (it escaped, ` +
      `e.g. stored in a variable or captured by a closure and used later). Values of a transformation ` +
      `are only valid inside it: return them as its result instead, or use primal(v) for a constant`,
  );

/** Runs `body` with `trace` pushed as the innermost handler; pops it whatever happens. */
export function withTrace<T extends Trace, R>(trace: T, body: (trace: T) => R, asDynamic = false): R {
  trace.level = stack.length;
  trace.active = true;
  stack.push(trace);
  const savedDynamic = dynamic;
  if (asDynamic) dynamic = trace;
  try {
    return body(trace);
  } finally {
    trace.active = false;
    dynamic = savedDynamic;
    // An error may leave inner levels on the stack only if they too were popped by their own
    // finally blocks; truncate to be sure no handler state leaks into the next call.
    stack.length = trace.level;
  }
}

/** The number of handlers on the stack (1 = plain evaluation). */
export const depth = (): number => stack.length;

// Sealed levels. A program applied as one primitive (customVjp, checkpoint) must read only its
// operands: the level that applies its rule runs it one level down, so a value of that level
// (or of a level above it) read through a closure would be wrapped again at the wrong level
// and its derivative lost. While such a program runs, an operation that reaches a sealed level
// is reported instead of performed.

/** A program applied as one primitive read a value of a sealed level through a closure. */
export class ClosureCapture extends TransformError {
  constructor(
    readonly op: string,
    /** The level whose value was read. */
    readonly trace: Trace,
  ) {
    super(
      `${op}: a program applied as one primitive (customVjp, checkpoint) read a value of an enclosing ` +
        `${trace.name} through a closure; pass that value to it as an argument`,
    );
  }
}

interface Seal {
  readonly lo: number;
  readonly hi: number;
  /** The first capture seen, kept even if the program catches the error thrown into it. */
  caught: ClosureCapture | null;
}
const checkSeals = (top: Trace): void => {
  if (top.substituting) return;
  const level = top.level;
  let capture: ClosureCapture | null = null;
  for (const seal of seals)
    if (level >= seal.lo && level < seal.hi) seal.caught ??= capture ??= new ClosureCapture("closure", top);
  if (capture) throw capture;
};

/**
 * Runs `rule(...args)` (a rule of a program applied as one primitive by the level `level`) with the
 * levels from `level` to the innermost sealed: an operation that reaches one of them throws a
 * ClosureCapture, which the caller turns into a program run as itself or a clear error.
 */
export function sealed<A extends unknown[], R>(level: number, self: object, rule: (...args: A) => R, args: A): R {
  const seal: Seal = { lo: level, hi: stack.length, caught: null };
  seals.push(seal);
  try {
    const r = rule.apply(self, args);
    if (seal.caught) throw seal.caught;
    return r;
  } finally {
    seals.splice(seals.lastIndexOf(seal), 1);
  }
}
