// Recursive functions that staging keeps (Lantern's FUN), as a higher-order primitive:
// `const rec = fixpoint(body, result)` makes a program whose body calls `rec` by name for the
// recursion. Run in place (eager, and under transformations of concrete values) the recursion
// simply runs, so grad, jvp and vmap differentiate or batch what actually happens. Under jit
// the body is staged once, with its arguments as staged values, into a real recursive
// JavaScript function: the recursion follows data known only at run time (a tree's child
// indices read with dynamicIndex), so one compiled function serves every tree. Under grad
// inside jit each invocation also returns a pullback closure (staged-reverse.ts) that its
// caller's closure calls, Lantern's CPS backpropagation; the gradients of arguments passed on
// unchanged (the weights) go into accumulators instead of up the tree.
//
// Staging must know a recursive call's result before the body that computes it has been
// staged: `result` declares it (its structure, shapes and dtypes; the values are not used),
// as Lantern's FUN declares its result type.
import { call as callInFrame } from "../../../effects/call.ts";
import { StagingTrace } from "../../../effects/stage.ts";
import { dynamicTrace } from "../../../effects/trace.ts";
import type { Value } from "../../../effects/value.ts";
import { TransformError } from "../../errors.ts";
import { flatten, type Flat } from "../../pytree.ts";
import type { Block } from "../../staging/ir.ts";
import { checkProgram, start, type AnyProgram, type Gen } from "../../transforms/common.ts";
import { bindControl, owner, type ControlPrimitive, type StagedWithPullback } from "./control-primitive.ts";
import { inBody, newFunction, origin, sinks } from "./recursion-state.ts";
import { carryKinds, inKind, isNumberLike, varLike } from "../../number-kind.ts";
import { checkSameLeaves, stageProgram } from "./staging.ts";

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
  inputs: readonly Value[];
  /** Set when a recursive call breaks an assumption about `grads` or `invariant`: restage. */
  widen: boolean;
}

/** One recursive program: its body, its declared result, the functions being staged of it. */
interface Recursion {
  readonly body: AnyProgram;
  readonly like: Flat;
  /** Per staging handler, the function whose body is being staged (recursive calls go to it). */
  readonly staging: Map<StagingTrace, Site>;
  /** The same under grad inside jit (each invocation returns a pullback closure). */
  readonly reverse: Map<StagingTrace, Site>;
}

interface FixParams {
  readonly rec: Recursion;
  /** The call's arguments as given, and their structure (whose leaves are the operands). */
  readonly args: unknown[];
  readonly structure: Flat;
}

const checkResult = (rec: Recursion, out: Flat): void =>
  checkSameLeaves("fixpoint", "the body's result and the declared `result`", rec.like.leaves, out.leaves);

/** A recursive call from inside the body being staged (with `wanted`: under grad inside jit). */
function callSite(trace: StagingTrace, rec: Recursion, site: Site, args: Flat, wanted: readonly boolean[] | null): StagedWithPullback {
  checkSameLeaves("fixpoint", "the arguments of a recursive call and of the outer call", site.args.leaves, args.leaves);
  wanted?.forEach((w, i) => {
    if (w && !site.grads[i]) site.grads[i] = site.widen = true;
    if (site.invariant[i] && origin(trace, args.leaves[i]!) !== site.inputs[i]) {
      site.invariant[i] = false;
      site.widen = true;
    }
  });
  const outs = rec.like.leaves.map((l, i) => varLike(trace, l, !site.tensorOut[i]));
  const closure = wanted ? [trace.newOpaque()] : [];
  const atoms = args.leaves.map((l, i) => trace.atom(inKind(l, site.scalarIn[i]!)));
  trace.push({ kind: "call", fn: site.fn, args: atoms, outs: [...outs, ...closure] });
  // The callee's closure returns the varying slots; the invariant ones it accumulates.
  return {
    outs: outs.map((v) => trace.value(v)),
    closure: wanted ? trace.value(closure[0]!) : 0,
    grads: wanted ? site.grads.map((g, i) => g && !site.invariant[i]) : [],
    structure: rec.like,
  };
}

/**
 * The outer call: the body staged once as recursive function `fn` (a `fix` equation), restaged
 * until the result slots' kinds are stable. With `wanted` (grad inside jit), every invocation
 * also returns its pullback closure, and restaging goes on until every recursive call's
 * differentiated arguments are known; the weights' cotangents go into accumulators.
 */
function stageFunction(trace: StagingTrace, rec: Recursion, args: Flat, wanted: readonly boolean[] | null): StagedWithPullback {
  const fn = newFunction(trace);
  const scalarIn = args.leaves.map(isNumberLike);
  const grads = wanted ? [...wanted] : [];
  const invariant = wanted ? [...wanted] : [];
  // One accumulator per differentiated slot, made before the function so every invocation's
  // closure can reach it; the unused ones are dead code.
  const accs = (wanted ?? []).map((w) => {
    if (!w) return null;
    const acc = trace.newOpaque();
    trace.push({ kind: "accumulator", out: acc });
    return trace.value(acc);
  });
  const sites = wanted ? rec.reverse : rec.staging;
  let block: Block | undefined;
  const tensorOut = carryKinds(rec.like.leaves, (tc) => {
    const previous = sites.get(trace);
    for (;;) {
      const inputs = args.leaves.map((l, i) => varLike(trace, l, scalarIn[i]!));
      const site: Site = { fn, args, scalarIn, tensorOut: tc, grads, invariant, inputs: [], widen: false };
      sites.set(trace, site);
      const sunk = accs.map((a, i) => (invariant[i] ? a : null));
      try {
        const staged = inBody(trace, () =>
          stageProgram(trace, "fixpoint", rec.body, inputs, (values) => {
            site.inputs = values;
            // Branches inside the body add into the accumulators directly (see switch.ts).
            values.forEach((v, i) => sunk[i] && sinks(trace).set(v, sunk[i]));
            return args.rebuild(values) as unknown[];
          }, tc, wanted && { wanted: [...grads], sinks: sunk }, (out) => checkResult(rec, flatten(out))),
        );
        block = staged.block;
        if (!site.widen) return staged.outs;
      } finally {
        site.inputs.forEach((v) => sinks(trace).delete(v));
        if (previous) sites.set(trace, previous);
        else sites.delete(trace);
      }
    }
  });
  const outs = rec.like.leaves.map((l, i) => varLike(trace, l, !tensorOut[i]));
  const closure = wanted ? [trace.newOpaque()] : [];
  trace.push({ kind: "fix", fn, body: block!, args: args.leaves.map((l) => trace.atom(l)), outs: [...outs, ...closure] });
  return {
    outs: outs.map((v) => trace.value(v)),
    closure: wanted ? trace.value(closure[0]!) : 0,
    grads: grads.map((g, i) => g && !invariant[i]),
    reads: accs.map((a, i) => (invariant[i] ? a : null)),
    structure: rec.like,
  };
}

/** The call's arguments over these operand leaves. */
const argsOf = (p: FixParams, operands: readonly Value[]): Flat => (operands === p.structure.leaves ? p.structure : flatten(p.structure.rebuild(operands)));

const staged = (trace: StagingTrace, operands: readonly Value[], p: FixParams): unknown => {
  const args = argsOf(p, operands);
  const site = p.rec.staging.get(trace);
  const r = site ? callSite(trace, p.rec, site, args, null) : stageFunction(trace, p.rec, args, null);
  return p.rec.like.rebuild(r.outs);
};

/**
 * A transformation above staging that is not grad: a staged recursion cannot be expressed in its
 * operations (its depth is known only at run time). Operands it does not trace: staged as they are.
 */
function* notSupported(operands: readonly Value[], p: FixParams): Gen<unknown> {
  const d = dynamicTrace() as StagingTrace;
  const top = owner(operands);
  if (top === null || top === d) return staged(d, operands, p);
  throw new TransformError(
    `fixpoint: a staged recursion under ${top.name} inside jit is not supported; apply ${top.name} outside jit ` +
      "(jit only the inner program), or use grad, which is supported inside jit",
  );
}

function* runBody(rec: Recursion, args: unknown[]): Gen<unknown> {
  const out = yield* start<unknown>("fixpoint", rec.body, args);
  checkResult(rec, flatten(out));
  return out;
}

const fixpointP: ControlPrimitive<FixParams> = {
  name: "fixpoint",
  // Not staging: the recursion runs, each level in a frame of the driver's (`call`), so a
  // recursion of any depth costs linear time.
  decided: (_operands, _p, staging) => staging === null,
  impl: (operands, p) => callInFrame(runBody, p.rec, operands === p.structure.leaves ? p.args : (p.structure.rebuild(operands) as unknown[])),
  stage: staged,
  vjp: (trace, primals, p, wanted) => {
    const args = argsOf(p, primals);
    const site = p.rec.reverse.get(trace);
    return site ? callSite(trace, p.rec, site, args, wanted) : stageFunction(trace, p.rec, args, wanted);
  },
  jvp: notSupported,
  batch: notSupported,
  whole: true,
};

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
  const rec: Recursion = { body: body as AnyProgram, like, staging: new Map(), reverse: new Map() };
  return function* recursive(...args: A): Gen<R> {
    const structure = flatten(args);
    return (yield* bindControl(fixpointP, structure.leaves, { rec, args, structure })) as R;
  };
}
