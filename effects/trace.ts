// The handler stack and dispatch. Each transformation invocation pushes a handler (a Trace)
// at a fresh level; an operation goes to the innermost handler that owns one of its operands
// (Autodidax's find_top_trace). That handler unwraps its own boxes and performs the primal
// work by calling `bind` again, which reaches the levels below: so the level below can
// differentiate that work too. Recursion here is bounded by the nesting depth of
// transformations, never by the number of effects.
import { EscapeError } from "../src/errors.ts";
import type { Primitive } from "./primitive.ts";
import { Traced, type Value } from "./value.ts";

export abstract class Trace {
  /** Position in the handler stack; inner transformations have higher levels. */
  level = -1;
  /** False once the transformation that made this level has returned. */
  active = false;
  /** Names the transformation in error messages. */
  abstract readonly name: string;
  /** Gives an operation its meaning at this level. */
  abstract process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value;
}

/** Level 0: evaluation. Runs the kernel. */
class EvalTrace extends Trace {
  readonly name = "run";
  process<P>(prim: Primitive<P>, args: readonly Value[], params: P): Value {
    return prim.impl(args, params);
  }
}

const evalTrace = new EvalTrace();
evalTrace.level = 0;
evalTrace.active = true;
const stack: Trace[] = [evalTrace];

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
  return top.process(prim, args, params);
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
