// What staging a recursive function (fixpoint) needs to know across the constructs inside its
// body, kept per staging handler here rather than on the handler: the handler records
// equations, and knows nothing of recursion.
import { StagedValue, type StagingTrace } from "../../../effects/stage.ts";
import type { Value } from "../../../effects/value.ts";

interface RecursionState {
  /** Nonzero while a recursive function's body is staged (its branches are staged for real). */
  depth: number;
  /** The next id of a staged recursive function (`f<id>` in the generated code). */
  nextFn: number;
  /** Block inputs that stand for an operand of the enclosing block (a branch's operands). */
  readonly aliases: WeakMap<StagedValue, Value>;
  /** Accumulators receiving the cotangent of a recursive function's unchanged arguments. */
  readonly sinks: Map<Value, Value>;
}

const states = new WeakMap<StagingTrace, RecursionState>();

const stateOf = (trace: StagingTrace): RecursionState => {
  let s = states.get(trace);
  if (!s) states.set(trace, (s = { depth: 0, nextFn: 0, aliases: new WeakMap(), sinks: new Map() }));
  return s;
};

/** Whether a recursive function's body is being staged by `trace`. */
export const inRecursiveBody = (trace: StagingTrace): boolean => (states.get(trace)?.depth ?? 0) > 0;

/** Runs `body` as the staging of a recursive function's body. */
export const inBody = <R>(trace: StagingTrace, body: () => R): R => {
  const s = stateOf(trace);
  s.depth++;
  try {
    return body();
  } finally {
    s.depth--;
  }
};

/** A fresh id for a staged recursive function. */
export const newFunction = (trace: StagingTrace): number => stateOf(trace).nextFn++;

/** Records that the block input `v` is bound to `operand` when the block runs. */
export const alias = (trace: StagingTrace, v: StagedValue, operand: Value): void => void stateOf(trace).aliases.set(v, operand);

/** The value `v` stands for, through block inputs bound to operands. */
export const origin = (trace: StagingTrace, v: Value): Value => {
  const aliases = states.get(trace)?.aliases;
  while (aliases && v instanceof StagedValue && aliases.has(v)) v = aliases.get(v)!;
  return v;
};

/** The accumulators of a recursive function's unchanged arguments, by the value standing for each. */
export const sinks = (trace: StagingTrace): Map<Value, Value> => stateOf(trace).sinks;
