// Control flow that staging can keep: cond, whileLoop, scan. In eager mode (and under
// transformations with concrete values) they simply run, so every handler differentiates or
// batches what actually happens. When their operands are staged by jit, they become a real
// `if`, `while` or `for` in the generated code. When a transformation sits on top of staging
// (grad inside jit, vmap), cond evaluates both branches and selects (differentiable); scan
// unrolls; whileLoop — whose trip count is unknown until run time — cannot, and says so.
import { ReverseTrace } from "../../effects/reverse.ts";
import { StagingTrace, isCaptureError } from "../../effects/stage.ts";
import { BatchBox } from "../../effects/batch.ts";
import { depth, dynamicTrace } from "../../effects/trace.ts";
import { Traced, dtypeOf, isNumberLike, primal, shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, ValueError, fmt } from "../errors.ts";
import * as lax from "../lax.ts";
import { checkOptions } from "../options.ts";
import { flatten, type Flat } from "../pytree.ts";
import { checkSize, sameShape } from "../tensor/shape.ts";
import { ones } from "../tensor/create.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkProgram, runToEnd, type AnyProgram, type Gen } from "../transforms/common.ts";
import type { Block } from "./ir.ts";
import { reverseThroughClosure, stageWithPullback, tracedAbove } from "./staged-reverse.ts";
import { scanWithPullbacks, whileWithPullbacks } from "./loop-pullbacks.ts";

/**
 * The staging handler to record a real branch or loop into: `top` when it stages and no
 * transformation sits above it. With one above (grad or vmap inside jit), the branch and loop
 * bodies may read that transformation's values through closures, which a staged block cannot
 * take; the combinators then evaluate both branches, unroll, or run the loop instead.
 */
export const stagingHere = (top: Traced["trace"] | null): StagingTrace | null =>
  top instanceof StagingTrace && (top.level === depth() - 1 || top.exclusive > 0) ? top : null;

/** The innermost handler owning any of these values, or null if all are concrete. */
export const owner = (values: readonly Value[]): Traced["trace"] | null => {
  let top: Traced["trace"] | null = null;
  for (const v of values) if (v instanceof Traced && (top === null || v.trace.level > top.level)) top = v.trace;
  return top;
};

/** Whether concrete values stand behind these (so a branch can be taken now). */
const concrete = (values: readonly Value[]): boolean => values.every((v) => !(v instanceof Traced) || concreteBox(v));
const concreteBox = (v: Traced): boolean => {
  let x: Value = v;
  while (x instanceof Traced) {
    if (!x.hasInner) return false;
    x = x.inner;
  }
  return true;
};

/** The condition's shape is known while staging: the same error as eager mode, before any code runs. */
const checkCondition = (op: string, pred: Value): void => {
  const s = shapeOf(pred);
  if (s.reduce((a, b) => a * b, 1) !== 1) throw new ShapeError(`${op}: the condition must be a scalar, got shape ${fmt(s)}`);
};

const truthy = (op: string, pred: Value): boolean => {
  const p = primal(pred);
  if (typeof p === "number") return p !== 0;
  if (p.size !== 1) throw new ShapeError(`${op}: the condition must be a scalar, got shape ${fmt(p.shape)}`);
  return p.buf[0] !== 0;
};

export const run = (name: string, f: AnyProgram, args: readonly unknown[]): unknown => runToEnd(name, f, args);

/**
 * Stages `f` on staged copies of `args`' leaves; returns the block and the output structure.
 * `tensorIn[i]`: input i is a 0-d tensor even if `args` has a number there; `tensorOut[i]`:
 * output i leaves the block as a 0-d tensor even if `f` returns a number there.
 */
const stageBlock = (
  trace: StagingTrace,
  name: string,
  f: AnyProgram,
  args: Flat,
  asArgs: (rebuilt: unknown) => unknown[],
  tensorIn: readonly boolean[] = [],
  tensorOut: readonly boolean[] = [],
): { block: Block; out: Flat } => {
  const inputs = args.leaves.map((l, i) => trace.newVar(shapeOf(l), dtypeOf(l), isNumberLike(l) && !tensorIn[i]));
  let out: Flat | undefined;
  const block = trace.block(inputs, () => {
    out = flatten(run(name, f, asArgs(args.rebuild(inputs.map((v) => trace.value(v))))));
    return out.leaves.map((l, i) => (tensorOut[i] ? asTensor(l) : l));
  });
  return { block, out: out! };
};

/** A number-like value as a 0-d float64 tensor (x·1 is exact for every float, -0 and NaN included). */
export const asTensor = (v: Value): Value => (isNumberLike(v) ? lax.mul(v, ones([], "float64")) : v);

/**
 * Where a carry is a number in `init` but a 0-d tensor after the body (or the other way), the
 * staged loop keeps a 0-d tensor in that slot: a JS number and a tensor are different things
 * in the generated code. Stages until the slots' kinds are stable; returns them.
 */
export const carryKinds = (init: readonly Value[], stage: (tensorCarry: readonly boolean[]) => readonly Value[]): boolean[] => {
  const tensorCarry = init.map((l) => !isNumberLike(l));
  for (;;) {
    const out = stage(tensorCarry);
    const promote = out.map((l, i) => i < tensorCarry.length && !tensorCarry[i] && !isNumberLike(l));
    if (!promote.some(Boolean)) return tensorCarry;
    promote.forEach((p, i) => p && (tensorCarry[i] = true));
  }
};

export const checkSameLeaves = (op: string, what: string, a: readonly Value[], b: readonly Value[]): void => {
  if (a.length !== b.length) throw new ShapeError(`${op}: ${what} have ${a.length} vs ${b.length} values; they must have the same structure`);
  a.forEach((x, i) => {
    if (!sameShape(shapeOf(x), shapeOf(b[i]!)) || dtypeOf(x) !== dtypeOf(b[i]!))
      throw new ShapeError(`${op}: ${what} differ at value ${i}: ${fmt(shapeOf(x))} ${dtypeOf(x)} vs ${fmt(shapeOf(b[i]!))} ${dtypeOf(b[i]!)}; they must match`);
  });
};

/** The staged `if`: both branches staged as blocks over the operands. */
const stagedCond = (top: StagingTrace, pred: Value, thenFn: AnyProgram, elseFn: AnyProgram, ops: Flat): unknown => {
  checkCondition("cond", pred);
  let { block: thenBlock, out } = stageBlock(top, "cond", thenFn, ops, (a) => a as unknown[]);
  let { block: elseBlock, out: elseOut } = stageBlock(top, "cond", elseFn, ops, (a) => a as unknown[]);
  checkSameLeaves("cond", "the two branches' results", out.leaves, elseOut.leaves);
  const scalar = out.leaves.map((l, i) => isNumberLike(l) && isNumberLike(elseOut.leaves[i]!));
  // A number in one branch and a 0-d tensor in the other: both branches give a 0-d tensor.
  const tensorOut = scalar.map((s) => !s);
  if (out.leaves.some((l, i) => !scalar[i] && isNumberLike(l)))
    ({ block: thenBlock, out } = stageBlock(top, "cond", thenFn, ops, (a) => a as unknown[], [], tensorOut));
  if (elseOut.leaves.some((l, i) => !scalar[i] && isNumberLike(l)))
    ({ block: elseBlock, out: elseOut } = stageBlock(top, "cond", elseFn, ops, (a) => a as unknown[], [], tensorOut));
  const outs = out.leaves.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), scalar[i]!));
  top.push({ kind: "cond", pred: top.atom(pred), operands: ops.leaves.map((l) => top.atom(l)), then: thenBlock, else: elseBlock, outs });
  return out.rebuild(outs.map((v) => top.value(v)));
};

/**
 * The staged `if` under reverse mode: each branch computes its results and a pullback closure
 * (see staged-reverse.ts); the `if` gives the results of the branch taken and its closure.
 */
const condWithPullbacks = (
  top: StagingTrace,
  pred: Value,
  thenFn: AnyProgram,
  elseFn: AnyProgram,
  operands: unknown[],
  wanted: readonly boolean[],
): { outs: Value[]; closure: Value; structure: Flat; grads: boolean[] } => {
  checkCondition("cond", pred);
  const ops = flatten(operands);
  // An operand that is a recursive function's unchanged argument: its cotangent goes into that
  // argument's accumulator from inside the branch, instead of out of the closure.
  const sinks = ops.leaves.map((l, i) => (wanted[i] ? (top.sinks.get(top.origin(l)) ?? null) : null));
  const branch = (fn: AnyProgram, tensorOut: readonly boolean[]) => {
    const inputs = ops.leaves.map((l) => top.newVar(shapeOf(l), dtypeOf(l), isNumberLike(l)));
    let outs: Value[] = [];
    let structure: Flat | undefined;
    const block = top.block(inputs, () => {
      const values = inputs.map((v, k) => {
        const value = top.value(v);
        top.alias(value, ops.leaves[k]!);
        return value;
      });
      const args = ops.rebuild(values) as unknown[];
      const r = stageWithPullback(top, "cond", fn, args, wanted, (out) => (structure = flatten(out)), sinks);
      outs = r.outs;
      return [...outs.map((l, i) => (tensorOut[i] ? asTensor(l) : l)), r.closure];
    });
    return { block, outs, structure: structure! };
  };
  let a = branch(thenFn, []);
  let b = branch(elseFn, []);
  checkSameLeaves("cond", "the two branches' results", a.outs, b.outs);
  const scalar = a.outs.map((l, i) => isNumberLike(l) && isNumberLike(b.outs[i]!));
  const tensorOut = scalar.map((s) => !s);
  if (a.outs.some((l, i) => !scalar[i] && isNumberLike(l))) a = branch(thenFn, tensorOut);
  if (b.outs.some((l, i) => !scalar[i] && isNumberLike(l))) b = branch(elseFn, tensorOut);
  const outs = a.outs.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), scalar[i]!));
  const closure = top.newOpaque();
  top.push({ kind: "cond", pred: top.atom(pred), operands: ops.leaves.map((l) => top.atom(l)), then: a.block, else: b.block, outs: [...outs, closure] });
  return { outs: outs.map((v) => top.value(v)), closure: top.value(closure), structure: a.structure, grads: wanted.map((w, i) => w && !sinks[i]) };
};

/** `thenFn(...operands)` if pred is nonzero, else `elseFn(...operands)`. */
export function* cond<A extends unknown[], R>(
  pred: Value,
  thenFn: (...args: A) => Gen<R>,
  elseFn: (...args: A) => Gen<R>,
  ...operands: A
): Gen<R> {
  checkProgram("cond (then)", thenFn);
  checkProgram("cond (else)", elseFn);
  const ops = flatten(operands);
  const all = [pred, ...ops.leaves];
  const top = owner(all);
  if (top === null || concrete(all)) return yield* (truthy("cond", pred) ? thenFn : elseFn)(...operands);
  const staging = stagingHere(top);
  if (staging) return stagedCond(staging, pred, thenFn as AnyProgram, elseFn as AnyProgram, ops) as R;
  // grad inside jit: a real branch, each side with its pullback closure (one side runs).
  const d = dynamicTrace();
  if (d instanceof StagingTrace && top instanceof ReverseTrace) {
    let structure: Flat | undefined;
    try {
      const wanted = tracedAbove(d, ops.leaves);
      const outs = reverseThroughClosure("cond", all, (primals) => {
        const r = condWithPullbacks(d, primals[0]!, thenFn as AnyProgram, elseFn as AnyProgram, ops.rebuild(primals.slice(1)) as unknown[], wanted);
        structure = r.structure;
        return { ...r, grads: [false, ...r.grads] };
      });
      return structure!.rebuild(outs) as R;
    } catch (e) {
      // A branch reads a differentiated value through a closure: fall back to selecting.
      if (!isCaptureError(e)) throw e;
    }
  }
  // A transformation above staging (or batching): both branches, then select — but not in a
  // recursive function, where the branch not taken may recurse or index out of range.
  if (d instanceof StagingTrace && d.exclusive > 0)
    throw new TransformError(
      "cond: inside a fixpoint body under grad inside jit, a branch reads a differentiated value through a " +
        "closure; pass it to cond as an operand (cond(pred, thenFn, elseFn, ...operands))",
    );
  const a = flatten(yield* thenFn(...operands));
  const b = flatten(yield* elseFn(...operands));
  checkSameLeaves("cond", "the two branches' results", a.leaves, b.leaves);
  return a.rebuild(a.leaves.map((x, i) => lax.where(pred, x, b.leaves[i]!))) as R;
}

/** A number of steps: a non-negative safe integer (and a number, not a string or an object). */
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** A user's value in a message, without running its code (no toString or toJSON of objects). */
const describeValue = (v: unknown): string =>
  typeof v === "number" ? String(v) : typeof v === "string" ? JSON.stringify(v) : v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;

/** Whether a vmap's batch stands behind `v` (at its level or one below). */
const batched = (v: Value): boolean => {
  for (let x = v; x instanceof Traced; x = x.inner) {
    if (x instanceof BatchBox) return true;
    if (!x.hasInner) return false;
  }
  return false;
};

/** `while (condFn(carry)) carry = bodyFn(carry)`; returns the final carry. */
export function* whileLoop<C>(condFn: (carry: C) => Gen<Value>, bodyFn: (carry: C) => Gen<C>, init: C): Gen<C> {
  checkProgram("whileLoop (cond)", condFn);
  checkProgram("whileLoop (body)", bodyFn);
  const initFlat = flatten(init);
  const top = stagingHere(owner(initFlat.leaves));
  if (top) return stagedWhile(top, condFn as AnyProgram, bodyFn as AnyProgram, initFlat) as C;
  // grad inside jit: a real loop collecting a pullback closure per step.
  const d = dynamicTrace();
  if (d instanceof StagingTrace && owner(initFlat.leaves) instanceof ReverseTrace) {
    try {
      const outs = reverseThroughClosure("whileLoop", initFlat.leaves, (primals) =>
        whileWithPullbacks(d, condFn as AnyProgram, bodyFn as AnyProgram, initFlat, primals, tracedAbove(d, initFlat.leaves)),
      );
      return initFlat.rebuild(outs) as C;
    } catch (e) {
      if (!isCaptureError(e)) throw e; // a closure over a differentiated value: as below
    }
  }
  let carry = init;
  for (;;) {
    const p = yield* condFn(carry);
    // The condition became staged through a closure (a constant init, a body reading staged
    // values): stage the rest of the loop from the current carry.
    const carryFlat = flatten(carry);
    const now = stagingHere(owner([p, ...carryFlat.leaves]));
    if (now && !concrete([p])) return stagedWhile(now, condFn as AnyProgram, bodyFn as AnyProgram, carryFlat) as C;
    if (!concrete([p]) && batched(p))
      throw new TransformError(
        "whileLoop: under vmap the loop condition is batched (each example may need a different number of " +
          "steps), and whileLoop is not batched (unlike JAX's while_loop); use scan with a fixed length and " +
          "where to freeze finished examples, or run the loop per example outside vmap",
      );
    if (!concrete([p]))
      throw new TransformError(
        "whileLoop: the loop condition is staged under another transformation (e.g. grad inside jit) and the " +
          "body reads a differentiated value through a closure, so the number of steps is unknown while " +
          "differentiating; pass that value through the carry (the loop then stays a real loop), use scan with a " +
          "fixed length, or apply jit inside grad",
      );
    if (!truthy("whileLoop", p)) return carry;
    const next = yield* bodyFn(carry);
    // as when staged: the carry keeps its structure, shapes and dtypes
    checkSameLeaves("whileLoop", "the carry before and after the body", carryFlat.leaves, flatten(next).leaves);
    carry = next;
  }
}

/** The staged `while` equation for a carry, its results as staged values. */
const stagedWhile = (top: StagingTrace, condFn: AnyProgram, bodyFn: AnyProgram, initFlat: Flat): unknown => {
  // Each block gets its own inputs; the generated loop binds both to the same carry.
  let body: { block: Block; out: Flat } | undefined;
  const tensorCarry = carryKinds(initFlat.leaves, (tc) => {
    body = stageBlock(top, "whileLoop", bodyFn, initFlat, (c) => [c], tc, tc);
    checkSameLeaves("whileLoop", "the carry before and after the body", initFlat.leaves, body.out.leaves);
    return body.out.leaves;
  });
  const cond = stageBlock(top, "whileLoop", condFn, initFlat, (c) => [c], tensorCarry);
  const [p] = cond.out.leaves;
  if (cond.out.leaves.length !== 1 || p === undefined) throw new TransformError("whileLoop: the condition program must return one scalar value");
  checkCondition("whileLoop", p);
  const condBlock = cond.block;
  const outs = initFlat.leaves.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), !tensorCarry[i]));
  const initAtoms = initFlat.leaves.map((l, i) => top.atom(tensorCarry[i] ? asTensor(l) : l));
  top.push({ kind: "while", init: initAtoms, cond: condBlock, body: body!.block, outs });
  return initFlat.rebuild(outs.map((v) => top.value(v)));
};

/** The shape of scan's stacked outputs y (checked: scan may run many steps of a large y). */
export const stackedShape = (length: number, y: Value): number[] => {
  const shape = [length, ...shapeOf(y)];
  checkSize("scan", shape);
  return shape;
};

/**
 * Scans `fn(carry, x_t) → [carry, y_t]` over the leading axis of `xs` (a pytree of tensors);
 * returns `[finalCarry, ys]` with the y_t stacked along a new leading axis.
 */
export function* scan<C, X, Y>(fn: (carry: C, x: X) => Gen<[C, Y]>, init: C, xs: X, options: { length?: number } = {}): Gen<[C, Y]> {
  checkProgram("scan", fn);
  const initFlat = flatten(init);
  const xsFlat = flatten(xs);
  const lengths = xsFlat.leaves.map((x) => shapeOf(x)[0]);
  if (xsFlat.leaves.some((x) => shapeOf(x).length === 0)) throw new ShapeError("scan: every leaf of xs needs a leading axis to scan over");
  if (options === null || typeof options !== "object") throw new ValueError(`scan: options must be an object such as { length: 10 }, got ${describeValue(options)}`);
  checkOptions("scan", options, { length: "any" }); // its value: checked below
  if (options.length !== undefined && !isCount(options.length))
    throw new ValueError(`scan: length must be a non-negative integer (a number of steps), got ${describeValue(options.length)}`);
  const length = options.length ?? lengths[0];
  if (length === undefined) throw new ShapeError("scan: xs has no arrays; pass { length } to scan a fixed number of steps");
  if (lengths.some((n) => n !== length)) throw new ShapeError(`scan: the leaves of xs have leading axes ${lengths.join(", ")}; they must all be ${length}`);
  const top = stagingHere(owner([...initFlat.leaves, ...xsFlat.leaves]));
  if (top) {
    let carryOut: Flat | undefined;
    let ysOut: Flat | undefined;
    let block: Block | undefined;
    const tensorCarry = carryKinds(initFlat.leaves, (tc) => {
      const xVars = xsFlat.leaves.map((x) => top.newVar(shapeOf(x).slice(1), dtypeOf(x), false));
      const carryVars = initFlat.leaves.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), !tc[i]));
      block = top.block([...carryVars, ...xVars], () => {
        const c = initFlat.rebuild(carryVars.map((v) => top.value(v)));
        const x = xsFlat.rebuild(xVars.map((v) => top.value(v)));
        const r = run("scan", fn as AnyProgram, [c, x]) as [C, Y];
        if (!Array.isArray(r) || r.length !== 2) throw new TransformError("scan: the body must return [carry, y]");
        carryOut = flatten(r[0]);
        ysOut = flatten(r[1]);
        return [...carryOut.leaves.map((l, i) => (tc[i] ? asTensor(l) : l)), ...ysOut.leaves];
      });
      checkSameLeaves("scan", "the carry before and after the body", initFlat.leaves, carryOut!.leaves);
      return carryOut!.leaves;
    });
    const outs = [
      ...initFlat.leaves.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), !tensorCarry[i])),
      ...ysOut!.leaves.map((y) => top.newVar(stackedShape(length, y), dtypeOf(y), false)),
    ];
    const initAtoms = initFlat.leaves.map((l, i) => top.atom(tensorCarry[i] ? asTensor(l) : l));
    top.push({ kind: "scan", length, init: initAtoms, xs: xsFlat.leaves.map((l) => top.atom(l)), body: block!, outs });
    const staged = outs.map((v) => top.value(v));
    return [initFlat.rebuild(staged.slice(0, initFlat.leaves.length)), ysOut!.rebuild(staged.slice(initFlat.leaves.length))] as [C, Y];
  }
  // grad inside jit: a real loop whose steps return pullback closures.
  const d = dynamicTrace();
  const own = owner([...initFlat.leaves, ...xsFlat.leaves]);
  if (d instanceof StagingTrace && own instanceof ReverseTrace) {
    let ys: Flat | undefined;
    try {
      const leaves = [...initFlat.leaves, ...xsFlat.leaves];
      const outs = reverseThroughClosure("scan", leaves, (primals) => {
        const r = scanWithPullbacks(d, fn as AnyProgram, initFlat, xsFlat, primals, tracedAbove(d, leaves), length);
        ys = r.ys;
        return r;
      });
      const n = initFlat.leaves.length;
      return [initFlat.rebuild(outs.slice(0, n)), ys!.rebuild(outs.slice(n))] as [C, Y];
    } catch (e) {
      if (!isCaptureError(e)) throw e; // the body reads a differentiated value through a closure: unroll
    }
  }
  // Eager (or a transformation above staging): run the steps.
  let carry = init;
  const ys: Value[][] = [];
  let yFlat: Flat | undefined;
  for (let t = 0; t < length; t++) {
    const x = xsFlat.rebuild(xsFlat.leaves.map((leaf) => row(leaf, t)));
    const r = (yield* fn(carry, x as X)) as [C, Y];
    if (!Array.isArray(r) || r.length !== 2) throw new TransformError("scan: the body must return [carry, y]");
    // as when staged: the carry keeps its structure, shapes and dtypes, and every y_t is alike
    checkSameLeaves("scan", "the carry before and after the body", flatten(carry).leaves, flatten(r[0]).leaves);
    carry = r[0];
    const yt = flatten(r[1]);
    if (yFlat) checkSameLeaves("scan", "the outputs y of two steps", yFlat.leaves, yt.leaves);
    else for (const y of yt.leaves) stackedShape(length, y); // before the steps fill memory with rows
    yFlat = yt;
    ys.push(yFlat.leaves);
  }
  if (!yFlat) return [carry, flatten(undefined).rebuild([]) as Y];
  const stacked = yFlat.leaves.map((_, k) => lax.concat(ys.map((y) => lax.reshape(y[k]!, [1, ...shapeOf(y[k]!)])), 0));
  return [carry, yFlat.rebuild(stacked) as Y];
}

/** Row t of a value along axis 0, with operations (so it differentiates). */
const row = (x: Value, t: number): Value => {
  const s = shapeOf(x);
  if (x instanceof Tensor) return new Tensor(x.buf.subarray(t * (x.size / s[0]!), (t + 1) * (x.size / s[0]!)) as Tensor["buf"], s.slice(1));
  return lax.reshape(lax.slice(x, s.map((_, a) => (a === 0 ? t : 0)), s.map((d, a) => (a === 0 ? t + 1 : d))), s.slice(1));
};
