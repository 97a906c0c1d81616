// Reverse mode of staged branches and recursion (grad inside jit). A staged `if` or recursive
// function cannot be unrolled: which branch runs, and how deep the recursion goes, is known
// only when the generated code runs. So, as in Lantern's CPS translation, each branch (or each
// invocation of the recursive function) computes its result *and a pullback closure* that
// captures its intermediate values by scope; the backward pass applies the closure. The
// generated code thus holds `const pb = function (ct) { ... }` next to the forward code, and a
// tree's backward pass is a chain of closures calling their children's closures.
import { definePrimitive, type MaybeValue } from "../../../effects/primitive.ts";
import { StagedValue, type StagingTrace } from "../../../effects/stage.ts";
import { bind } from "../../../effects/trace.ts";
import { Traced, type Value } from "../../../effects/value.ts";
import { TransformError } from "../../errors.ts";
import { flatten } from "../../pytree.ts";
import { perExample } from "../batching.ts";
import type { AnyProgram } from "../../transforms/common.ts";
import { kindLike, varLike, zerosLike } from "../../number-kind.ts";
import { vjpDirect } from "../../transforms/vjp.ts";
import { isKnownZero, noteZero } from "../../staging/known-zeros.ts";

/**
 * Stages `f(...args)` under reverse mode into the current block: returns its result's leaves
 * and a staged closure `ct => cotangents of the argument leaves where wanted[i]` (the others
 * enter as constants). Where `sinks[i]` is an accumulator, the closure adds leaf i's
 * cotangent into it instead of returning it.
 */
export function stageWithPullback(
  trace: StagingTrace,
  name: string,
  f: AnyProgram,
  args: readonly unknown[],
  wanted: readonly boolean[],
  onResult?: (out: unknown) => void,
  sinks: readonly (Value | null)[] = [],
): { outs: Value[]; closure: Value } {
  const flat = flatten(args);
  const varying = flat.leaves.filter((_, i) => wanted[i]);
  const sinkOf = flat.leaves.flatMap((_, i) => (wanted[i] ? [sinks[i] ?? null] : []));
  const withVarying = (v: readonly Value[]): unknown[] => {
    let k = 0;
    return flat.rebuild(flat.leaves.map((l, i) => (wanted[i] ? v[k++]! : l))) as unknown[];
  };
  // vjp wants at least one input: a trailing 0 the program ignores (its cotangent is dropped).
  const [out, pullback] = vjpDirect(name, ((v: Value[]) => f(...withVarying(v))) as AnyProgram, [[...varying, 0]]);
  onResult?.(out);
  const outs = flatten(out).leaves;
  const ctVars = outs.map((o) => varLike(trace, o));
  const body = trace.block(ctVars, () => {
    const cts = flatten(out).rebuild(ctVars.map((v) => trace.value(v)));
    const grads = flatten(pullbackNow(pullback, cts)).leaves.slice(0, varying.length);
    const returned: Value[] = [];
    grads.forEach((g, k) => {
      const sink = sinkOf[k];
      if (!sink) returned.push(noteZero(kindLike(g, varying[k]!)));
      else if (!(g instanceof Traced) && isKnownZero(noteZero(g))) return; // nothing flowed
      else trace.push({ kind: "accumulate", acc: trace.atom(sink), value: trace.atom(g) });
    });
    return returned;
  });
  const fnVar = trace.newOpaque();
  trace.push({ kind: "lambda", body, out: fnVar });
  return { outs, closure: trace.value(fnVar) };
}

/** Runs a pullback (a generator that performs no effects of its own) to its result. */
const pullbackNow = (pullback: (ct: unknown) => Generator<unknown, unknown[], unknown>, ct: unknown): unknown[] => {
  const g = pullback(ct);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
};

/** Applies a staged pullback closure to the outputs' cotangents: the arguments' cotangents. */
function applyPullback(name: string, closure: Value, cts: readonly Value[], args: readonly Value[]): Value[] {
  if (!(closure instanceof StagedValue)) throw new TransformError(`${name}: internal error, the pullback is not staged`);
  const trace = closure.trace as StagingTrace;
  for (const c of cts)
    if (c instanceof Traced && !trace.owns(c))
      throw new TransformError(
        `${name}: a staged branch or recursion is differentiated twice inside jit (e.g. jit(grad(grad(f))) or ` +
          "jvp of grad); take the higher derivative outside jit, or jit only the first-order program",
      );
  const outs = args.map((a) => varLike(trace, a));
  trace.push({ kind: "apply", fn: trace.atom(closure), args: cts.map((c) => trace.atom(c)), outs });
  return outs.map((v) => trace.value(v));
}

/** What staging a construct under reverse mode gives. */
export interface WithPullback {
  outs: Value[];
  closure: Value;
  /** The operands the closure gives cotangents for, in order (a superset of the wanted ones). */
  grads: readonly boolean[];
  /** Operands whose cotangent is read from an accumulator after applying the closure. */
  reads?: readonly (Value | null)[];
}

/** The sum an accumulator holds, shaped like `like` (a 0-d tensor for a number). */
const readAccumulator = (acc: Value, like: Value): Value => {
  const trace = (acc as StagedValue).trace as StagingTrace;
  const out = varLike(trace, like, false);
  trace.push({ kind: "readAccumulator", acc: trace.atom(acc), out });
  return trace.value(out);
};

interface CallParams {
  readonly name: string;
  /** Stages the construct at the staging level: its result leaves and pullback closure. */
  readonly forward: (primals: readonly Value[]) => WithPullback;
  /** Filled by the forward pass: the operands the closure differentiates. */
  grads: readonly boolean[];
  /** Filled by the forward pass: accumulators holding other operands' cotangents. */
  reads: readonly (Value | null)[];
  /** Filled by the forward pass: the staged result leaves. */
  outs: Value[];
  /** Filled by the backward pass: each result's cotangent (null = none yet). */
  cts: MaybeValue[];
}

const unsupported = (p: CallParams, what: string): never => {
  throw new TransformError(
    `${p.name}: ${what} of a staged branch or recursion inside jit is not supported; apply ${what} outside jit ` +
      "(jit only the inner program), or use grad, which is supported inside jit",
  );
};

// The construct as one primitive whose output is its pullback closure (a token), and one
// projection per result leaf: reverse mode needs a single output per step, and the closure
// must see every result's cotangent at once. The projections run first in the backward pass
// (they were recorded later) and leave their cotangents for the call's step.
const callP = definePrimitive<CallParams>({
  name: "stagedCall",
  abstractEval: (_a, p) => unsupported(p, "this transformation"),
  impl: (_a, p) => unsupported(p, "this transformation"),
  jvp: (_a, _t, _o, p) => unsupported(p, "forward mode (jvp)"),
  reverse: (primals, p) => {
    const { outs, closure, grads, reads } = p.forward(primals);
    p.outs = outs;
    p.grads = grads;
    p.reads = reads ?? [];
    p.cts = outs.map(() => null);
    return { out: closure, residuals: undefined };
  },
  vjp: (_ct, primals, closure, p) => {
    const cts = p.outs.map((o, i) => kindLike(p.cts[i] ?? zerosLike(o), o));
    p.cts = p.outs.map(() => null); // a pullback may run the backward pass again
    const grads = applyPullback(p.name, closure, cts, primals.filter((_, i) => p.grads[i]));
    let k = 0;
    return primals.map((x, i) => {
      if (p.grads[i]) return grads[k++]!;
      const acc = p.reads[i];
      return acc ? kindLike(readAccumulator(acc, x), x) : null;
    });
  },
  // Reached only when vmap is below the reverse handler of a staged construct (the construct
  // then stages once per example); not a rule of its own.
  batch: (values, batched, p, size): Value => perExample(callP, values, batched, p, size),
});

const projectP = definePrimitive<{ call: CallParams; index: number }>({
  name: "stagedResult",
  abstractEval: (_a, p) => unsupported(p.call, "this transformation"),
  impl: (_a, p) => unsupported(p.call, "this transformation"),
  jvp: (_a, _t, _o, p) => unsupported(p.call, "forward mode (jvp)"),
  reverse: (_primals, p) => ({ out: p.call.outs[p.index]!, residuals: undefined }),
  vjp: (ct, _primals, _out, p) => {
    p.call.cts[p.index] = ct; // the backward pass has summed this result's cotangents already
    return [0];
  },
  batch: (values, batched, p, size): Value => perExample(projectP, values, batched, p, size),
});

/** Which operands a transformation above the staging handler traces (they need cotangents). */
export const tracedAbove = (trace: StagingTrace, args: readonly Value[]): boolean[] =>
  args.map((a) => a instanceof Traced && a.trace.level > trace.level);

/**
 * Differentiates a staged construct through its pullback closure: `args` are its operand
 * leaves (some traced by the reverse handler above staging), `forward` stages it on their
 * primals, with a closure giving the cotangents of the operands it names. Returns the result leaves, traced by that reverse handler.
 */
export function reverseThroughClosure(name: string, args: readonly Value[], forward: (primals: readonly Value[]) => WithPullback): Value[] {
  const p: CallParams = { name, forward, grads: [], reads: [], outs: [], cts: [] };
  const token = bind(callP, args, p);
  return p.outs.map((_, index) => bind(projectP, [token], { call: p, index }));
}
