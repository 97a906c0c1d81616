// Control flow as higher-order primitives (Autodidax's cond_p): a construct — switchCase/cond,
// whileLoop, scan, fixpoint — is one record whose params hold its programs (generator
// functions: they are staged to blocks only by the rules that stage them), with one rule per
// transformation. `bindControl` is the one place that reads the handler stack to pick the rule;
// the constructs' entry points (cond, scan, ...) never look at it.
//
// Why a record of its own rather than an effects/primitive.ts Primitive: a construct has many
// results (a pytree) and its programs must run in the driver's frame (`yield*`), so that the
// program's own handlers — user effects, every transformation — see the operations of what
// actually runs. A first-order primitive has one result and a synchronous kernel.
import { BatchTrace } from "../../../effects/batch.ts";
import { ReverseTrace } from "../../../effects/reverse.ts";
import { StagingTrace, isCaptureError } from "../../../effects/stage.ts";
import { depth, dynamicTrace, type Trace } from "../../../effects/trace.ts";
import { Traced, type Value } from "../../../effects/value.ts";
import type { Flat } from "../../pytree.ts";
import type { Effect } from "../../../effects/effect.ts";
import { reverseThroughClosure, tracedAbove, type WithPullback } from "./staged-reverse.ts";
import { inRecursiveBody } from "./recursion-state.ts";

/** What a construct's reverse rule stages: its results, their pullback closure, their structure. */
export interface StagedWithPullback extends WithPullback {
  readonly structure: Flat;
}

/** What a program runs with `yield*`: a generator, or an operation (an Effect is its own iterator). */
export interface Runs<R> {
  [Symbol.iterator](): Iterator<Effect, R, unknown>;
}

/** A result already known, for `yield*`. */
const known = <R>(value: R): Runs<R> => ({ [Symbol.iterator]: () => ({ next: () => ({ done: true, value }) }) });

export interface ControlPrimitive<P> {
  readonly name: string;
  /**
   * Whether what the construct does is decided now — the operands that choose a branch or a trip
   * count are concrete (also under grad or jvp of concrete values) — so that `impl` runs it.
   */
  decided(operands: readonly Value[], params: P, staging: StagingTrace | null): boolean;
  /** Runs the construct in place: every handler sees (differentiates, batches) what actually happens. */
  impl(operands: readonly Value[], params: P): Runs<unknown>;
  /**
   * Under jit with no transformation above: abstract evaluation of its programs on staged
   * values (no kernel runs) into one equation of the IR; returns the staged results.
   */
  stage(trace: StagingTrace, operands: readonly Value[], params: P): unknown;
  /**
   * grad inside jit: staged as `stage` does, each program also returning a pullback closure
   * (staged-reverse.ts); `wanted[i]`: operand i is differentiated.
   */
  vjp(trace: StagingTrace, primals: readonly Value[], params: P, wanted: readonly boolean[]): StagedWithPullback;
  /**
   * Forward mode above staging: the construct staged whole on its programs' JVPs where the
   * nesting allows (forward-rule.ts); else — and for any transformation above staging that
   * cannot keep the construct whole — expressed with operations the handler above differentiates.
   */
  jvp(operands: readonly Value[], params: P): Runs<unknown>;
  /**
   * vmap, a batched operand deciding what runs: the construct on batched values (every branch
   * and a select; a loop over the batched body inside jit), or expressed with batched operations.
   */
  batch(operands: readonly Value[], params: P): Runs<unknown>;
  /**
   * A construct that cannot be expressed in operations while staged (a recursion): when its
   * programs read a differentiated value through a closure under grad inside jit, that error stands.
   */
  readonly whole?: boolean;
}

/** The innermost handler owning any of these values, or null if all are concrete. */
export const owner = (values: readonly Value[]): Trace | null => {
  let top: Trace | null = null;
  for (const v of values) if (v instanceof Traced && (top === null || v.trace.level > top.level)) top = v.trace;
  return top;
};

/**
 * The innermost handler whose values have no concrete number behind them (vmap's batches,
 * jit's staged values), or null when concrete values stand behind all of these.
 */
const abstractBase = (values: readonly Value[]): Trace | null => {
  let base: Trace | null = null;
  for (const v of values) {
    let x: Value = v;
    while (x instanceof Traced && x.hasInner) x = x.inner;
    if (x instanceof Traced && (base === null || x.trace.level > base.level)) base = x.trace;
  }
  return base;
};

/** Whether concrete values stand behind these (so a branch can be taken now). */
export const concrete = (values: readonly Value[]): boolean => abstractBase(values) === null;

/**
 * The staging handler to record a construct into whole: `top` when it stages and no
 * transformation sits above it (with one above, the programs may read that transformation's
 * values through closures, which a staged block cannot take), or when a recursive function's
 * body is staged (its branches must be real: the branch not taken may recurse forever).
 */
export const stagingHere = (top: Trace | null): StagingTrace | null =>
  top instanceof StagingTrace && (top.level === depth() - 1 || inRecursiveBody(top)) ? top : null;

/**
 * Applies a control primitive: picks its rule from the handlers that own the operands. Not a
 * generator itself: `yield* bindControl(...)` delegates straight to the rule (no frame of its
 * own per call, which a deep recursion would pay at every level).
 */
export function bindControl<P>(prim: ControlPrimitive<P>, operands: readonly Value[], params: P): Runs<unknown> {
  const d = dynamicTrace();
  const staging = d instanceof StagingTrace ? d : null;
  if (prim.decided(operands, params, staging)) return prim.impl(operands, params);
  const top = owner(operands);
  const here = top === null ? staging : stagingHere(top);
  if (here) return known(prim.stage(here, operands, params));
  const base = abstractBase(operands);
  if (staging !== null && base === staging && top instanceof ReverseTrace) {
    let structure: Flat | undefined;
    try {
      const outs = reverseThroughClosure(prim.name, operands, (primals) => {
        const r = prim.vjp(staging, primals, params, tracedAbove(staging, operands));
        structure = r.structure;
        return r;
      });
      return known(structure!.rebuild(outs));
    } catch (e) {
      // A program reads a differentiated value through a closure: the construct cannot be
      // staged whole under grad; the handler above differentiates it expressed in operations.
      if (!isCaptureError(e) || prim.whole) throw e;
    }
    return prim.jvp(operands, params);
  }
  // A batch decides (vmap, or vmap inside jit); else a transformation above staging expands it.
  if (base instanceof BatchTrace || top instanceof BatchTrace) return prim.batch(operands, params);
  return prim.jvp(operands, params);
}
