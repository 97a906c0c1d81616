// Recursive functions that staging keeps (Lantern's FUN): `const rec = fixpoint(body, result)`
// makes a program whose body calls `rec` by name for the recursion. In eager
// mode and under transformations with concrete values the recursion simply runs, so grad,
// jvp and vmap differentiate or batch what actually happens. Under jit the body is staged
// once, with its arguments as staged values, into a real recursive JavaScript function: the
// recursion follows data known only at run time (a tree's child indices read with
// dynamicIndex), so one compiled function serves every tree. Under grad inside jit each
// invocation also returns a pullback closure (staged-reverse.ts) that its caller's closure
// calls, Lantern's CPS backpropagation; the gradients of arguments passed on unchanged (the
// weights) go into accumulators instead of up the tree.
//
// Staging must know a recursive call's result before the body that computes it has been
// staged: `result` declares it (its structure, shapes and dtypes; the values are not used),
// as Lantern's FUN declares its result type.
import { call as callInFrame } from "../../effects/call.ts";
import { ReverseTrace } from "../../effects/reverse.ts";
import { StagingTrace } from "../../effects/stage.ts";
import { dynamicTrace } from "../../effects/trace.ts";
import { dtypeOf, isNumberLike, shapeOf, type Value } from "../../effects/value.ts";
import { TransformError } from "../errors.ts";
import * as S from "../primitives/shape.ts";
import { flatten, type Flat } from "../pytree.ts";
import { checkProgram, start, type AnyProgram, type Gen } from "../transforms/common.ts";
import { asTensor, carryKinds, checkSameLeaves, owner, run } from "./control.ts";
import type { Block } from "./ir.ts";
import { reverseThroughClosure, stageWithPullback, tracedAbove, type WithPullback } from "./staged-reverse.ts";

/** The recursive function being staged: what a recursive call inside its body needs. */
interface Site {
  readonly fn: number;
  readonly args: Flat;
  /** Argument slots that are JS numbers in the generated code. */
  readonly scalarIn: readonly boolean[];
  /** Result slots that are tensors in the generated code. */
  readonly tensorOut: readonly boolean[];
  /** Under grad inside jit: the argument slots the pullback closure differentiates. */
  readonly grads: boolean[];
  /**
   * Differentiated slots every recursive call passes on unchanged (the weights): their
   * cotangents go into one accumulator per slot instead of up the call tree.
   */
  readonly invariant: boolean[];
  /** This staging's argument values, to tell an unchanged argument. */
  readonly inputs: readonly Value[];
  /** Set when a recursive call breaks an assumption about `grads` or `invariant`: restage. */
  widen: boolean;
}

/** A recursive program made by `fixpoint`: it calls itself, and `jit` stages it as one recursive function. */
export type Recursive<A extends unknown[], R> = (...args: A) => Gen<R>;

/**
 * A recursive program: `const rec = fixpoint(body, result)`; `rec(...args)` runs
 * `body(...args)`, which calls `rec` for the recursion. `result` is shaped like the result
 * (e.g. the base case's value). Under jit the recursion becomes a recursive function in the
 * generated code; branch with `cond`, passing what a branch differentiates as operands.
 */
export function fixpoint<A extends unknown[], R>(body: (...args: A) => Gen<R>, result: R): Recursive<A, R> {
  checkProgram("fixpoint", body);
  const like = flatten(result);
  if (like.leaves.length === 0) throw new TransformError("fixpoint: `result` has no numbers or tensors; pass a value shaped like the result");
  // Per staging handler, the function whose body is being staged (recursive calls go to it).
  const staging = new Map<StagingTrace, Site>();

  const checkResult = (out: Flat): void =>
    checkSameLeaves("fixpoint", "the body's result and the declared `result`", like.leaves, out.leaves);

  const call = (trace: StagingTrace, site: Site, args: Flat): R => {
    checkSameLeaves("fixpoint", "the arguments of a recursive call and of the outer call", site.args.leaves, args.leaves);
    const outs = like.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), !site.tensorOut[i]));
    const atoms = args.leaves.map((l, i) => trace.atom(site.scalarIn[i] ? (isNumberLike(l) ? l : S.toNumber(l)) : asTensor(l)));
    trace.push({ kind: "call", fn: site.fn, args: atoms, outs });
    return like.rebuild(outs.map((v) => trace.value(v))) as R;
  };

  const stage = (trace: StagingTrace, args: Flat): R => {
    const fn = trace.newFunction();
    const scalarIn = args.leaves.map(isNumberLike);
    let block: Block | undefined;
    const tensorOut = carryKinds(like.leaves, (tc) => {
      const previous = staging.get(trace);
      staging.set(trace, { fn, args, scalarIn, tensorOut: tc, grads: [], invariant: [], inputs: [], widen: false });
      trace.exclusive++;
      try {
        const inputs = args.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), scalarIn[i]!));
        let out: Flat | undefined;
        block = trace.block(inputs, () => {
          out = flatten(run("fixpoint", body as AnyProgram, args.rebuild(inputs.map((v) => trace.value(v))) as unknown[]));
          checkResult(out);
          return out.leaves.map((l, i) => (tc[i] ? asTensor(l) : l));
        });
        return out!.leaves;
      } finally {
        trace.exclusive--;
        if (previous) staging.set(trace, previous);
        else staging.delete(trace);
      }
    });
    const outs = like.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), !tensorOut[i]));
    trace.push({ kind: "fix", fn, body: block!, args: args.leaves.map((l) => trace.atom(l)), outs });
    return like.rebuild(outs.map((v) => trace.value(v))) as R;
  };

  // Under grad inside jit: each invocation returns its result and its pullback closure.
  const reverseSites = new Map<StagingTrace, Site>();

  const callWithPullback = (trace: StagingTrace, site: Site, args: Flat, wanted: readonly boolean[]): WithPullback => {
    checkSameLeaves("fixpoint", "the arguments of a recursive call and of the outer call", site.args.leaves, args.leaves);
    wanted.forEach((w, i) => {
      if (w && !site.grads[i]) site.grads[i] = site.widen = true;
      if (site.invariant[i] && trace.origin(args.leaves[i]!) !== site.inputs[i]) {
        site.invariant[i] = false;
        site.widen = true;
      }
    });
    const outs = like.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), !site.tensorOut[i]));
    const closure = trace.newOpaque();
    const atoms = args.leaves.map((l, i) => trace.atom(site.scalarIn[i] ? (isNumberLike(l) ? l : S.toNumber(l)) : asTensor(l)));
    trace.push({ kind: "call", fn: site.fn, args: atoms, outs: [...outs, closure] });
    // The callee's closure returns the varying slots; the invariant ones it accumulates.
    return { outs: outs.map((v) => trace.value(v)), closure: trace.value(closure), grads: site.grads.map((g, i) => g && !site.invariant[i]) };
  };

  const stageWithPullbacks = (trace: StagingTrace, args: Flat, wanted: readonly boolean[]): WithPullback => {
    const fn = trace.newFunction();
    const scalarIn = args.leaves.map(isNumberLike);
    const grads = [...wanted];
    const invariant = [...wanted];
    // One accumulator per differentiated slot, made before the function so every invocation's
    // closure can reach it; the unused ones are dead code.
    const accs = wanted.map((w) => {
      if (!w) return null;
      const acc = trace.newOpaque();
      trace.push({ kind: "accumulator", out: acc });
      return trace.value(acc);
    });
    let block: Block | undefined;
    const tensorOut = carryKinds(like.leaves, (tc) => {
      const previous = reverseSites.get(trace);
      // Restage until every recursive call's differentiated arguments are in `grads`.
      for (;;) {
        const inputs = args.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), scalarIn[i]!));
        const values = inputs.map((v) => trace.value(v));
        const site: Site = { fn, args, scalarIn, tensorOut: tc, grads, invariant, inputs: values, widen: false };
        reverseSites.set(trace, site);
        trace.exclusive++;
        try {
          let outs: Value[] = [];
          const sinks = accs.map((a, i) => (invariant[i] ? a : null));
          // Branches inside the body add into the accumulators directly (see cond).
          values.forEach((v, i) => sinks[i] && trace.sinks.set(v, sinks[i]));
          block = trace.block(inputs, () => {
            const r = stageWithPullback(trace, "fixpoint", body as AnyProgram, args.rebuild(values) as unknown[], [...grads], undefined, sinks);
            outs = r.outs;
            checkResult(flatten(outs));
            return [...outs.map((l, i) => (tc[i] ? asTensor(l) : l)), r.closure];
          });
          if (!site.widen) return outs;
        } finally {
          values.forEach((v) => trace.sinks.delete(v));
          trace.exclusive--;
          if (previous) reverseSites.set(trace, previous);
          else reverseSites.delete(trace);
        }
      }
    });
    const outs = like.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), !tensorOut[i]));
    const closure = trace.newOpaque();
    trace.push({ kind: "fix", fn, body: block!, args: args.leaves.map((l) => trace.atom(l)), outs: [...outs, closure] });
    return {
      outs: outs.map((v) => trace.value(v)),
      closure: trace.value(closure),
      grads: grads.map((g, i) => g && !invariant[i]),
      reads: accs.map((a, i) => (invariant[i] ? a : null)),
    };
  };

  const rec = function* recursive(...args: A): Gen<R> {
    const d = dynamicTrace();
    // Eager (and under transformations with concrete values): the recursion simply runs, each
    // level in a frame of the driver's (`call`), so a recursion of any depth costs linear time.
    if (!(d instanceof StagingTrace)) return yield* callInFrame(runBody, args);
    const flat = flatten(args);
    const top = owner(flat.leaves);
    if (top === null || top === d) {
      const site = staging.get(d);
      return site ? call(d, site, flat) : stage(d, flat);
    }
    if (!(top instanceof ReverseTrace))
      throw new TransformError(
        `fixpoint: a staged recursion under ${top.name} inside jit is not supported; apply ${top.name} outside jit ` +
          "(jit only the inner program), or use grad, which is supported inside jit",
      );
    // grad inside jit: the recursion is staged with a pullback closure per invocation.
    const wanted = tracedAbove(d, flat.leaves);
    const outs = reverseThroughClosure("fixpoint", flat.leaves, (primals) => {
      const site = reverseSites.get(d);
      const args = flatten(flat.rebuild(primals as Value[]));
      return site ? callWithPullback(d, site, args, wanted) : stageWithPullbacks(d, args, wanted);
    });
    return like.rebuild(outs) as R;
  };
  function* runBody(args: A): Gen<R> {
    const out = yield* start<R>("fixpoint", body as AnyProgram, args);
    checkResult(flatten(out));
    return out;
  }
  return rec;
}
