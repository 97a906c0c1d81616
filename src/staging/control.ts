// Control flow that staging can keep: cond, whileLoop, scan. In eager mode (and under
// transformations with concrete values) they simply run, so every handler differentiates or
// batches what actually happens. When their operands are staged by jit, they become a real
// `if`, `while` or `for` in the generated code. When a transformation sits on top of staging
// (grad inside jit, vmap), cond evaluates both branches and selects (differentiable); scan
// unrolls; whileLoop — whose trip count is unknown until run time — cannot, and says so.
import { drive } from "../../effects/driver.ts";
import { StagingTrace } from "../../effects/stage.ts";
import { Traced, dtypeOf, isNumberLike, primal, shapeOf, type Value } from "../../effects/value.ts";
import { ShapeError, TransformError, fmt } from "../errors.ts";
import * as lax from "../lax.ts";
import { flatten, type Flat } from "../pytree.ts";
import { sameShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkProgram, start, type AnyProgram, type Gen } from "../transforms/common.ts";
import type { Block, Var } from "./ir.ts";

/** The innermost handler owning any of these values, or null if all are concrete. */
const owner = (values: readonly Value[]): Traced["trace"] | null => {
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

const truthy = (op: string, pred: Value): boolean => {
  const p = primal(pred);
  if (typeof p === "number") return p !== 0;
  if (p.size !== 1) throw new ShapeError(`${op}: the condition must be a scalar, got shape ${fmt(p.shape)}`);
  return p.buf[0] !== 0;
};

const run = (name: string, f: AnyProgram, args: readonly unknown[]): unknown => drive(start(name, f, args));

/** Fresh variables shaped like the leaves. */
const varsLike = (trace: StagingTrace, leaves: readonly Value[]): Var[] =>
  leaves.map((l) => trace.newVar(shapeOf(l), dtypeOf(l), isNumberLike(l)));

/** Stages `f` on staged copies of `args`' leaves; returns the block and the output structure. */
const stageBlock = (trace: StagingTrace, name: string, f: AnyProgram, args: Flat, asArgs: (rebuilt: unknown) => unknown[]): { block: Block; out: Flat } => {
  const inputs = varsLike(trace, args.leaves);
  let out: Flat | undefined;
  const block = trace.block(inputs, () => {
    out = flatten(run(name, f, asArgs(args.rebuild(inputs.map((v) => trace.value(v))))));
    return out.leaves;
  });
  return { block, out: out! };
};

const checkSameLeaves = (op: string, what: string, a: readonly Value[], b: readonly Value[]): void => {
  if (a.length !== b.length) throw new ShapeError(`${op}: ${what} have ${a.length} vs ${b.length} values; they must have the same structure`);
  a.forEach((x, i) => {
    if (!sameShape(shapeOf(x), shapeOf(b[i]!)) || dtypeOf(x) !== dtypeOf(b[i]!))
      throw new ShapeError(`${op}: ${what} differ at value ${i}: ${fmt(shapeOf(x))} ${dtypeOf(x)} vs ${fmt(shapeOf(b[i]!))} ${dtypeOf(b[i]!)}; they must match`);
  });
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
  if (top instanceof StagingTrace) {
    const { block: thenBlock, out } = stageBlock(top, "cond", thenFn as AnyProgram, ops, (a) => a as unknown[]);
    const { block: elseBlock, out: elseOut } = stageBlock(top, "cond", elseFn as AnyProgram, ops, (a) => a as unknown[]);
    checkSameLeaves("cond", "the two branches' results", out.leaves, elseOut.leaves);
    const outs = out.leaves.map((l, i) => top.newVar(shapeOf(l), dtypeOf(l), isNumberLike(l) && isNumberLike(elseOut.leaves[i]!)));
    top.push({ kind: "cond", pred: top.atom(pred), operands: ops.leaves.map((l) => top.atom(l)), then: thenBlock, else: elseBlock, outs });
    return out.rebuild(outs.map((v) => top.value(v))) as R;
  }
  // A transformation above staging (or batching): both branches, then select.
  const a = flatten(yield* thenFn(...operands));
  const b = flatten(yield* elseFn(...operands));
  checkSameLeaves("cond", "the two branches' results", a.leaves, b.leaves);
  return a.rebuild(a.leaves.map((x, i) => lax.where(pred, x, b.leaves[i]!))) as R;
}

/** `while (condFn(carry)) carry = bodyFn(carry)`; returns the final carry. */
export function* whileLoop<C>(condFn: (carry: C) => Gen<Value>, bodyFn: (carry: C) => Gen<C>, init: C): Gen<C> {
  checkProgram("whileLoop (cond)", condFn);
  checkProgram("whileLoop (body)", bodyFn);
  const initFlat = flatten(init);
  const top = owner(initFlat.leaves);
  if (top instanceof StagingTrace) {
    // Each block gets its own inputs; the generated loop binds both to the same carry.
    const condBlock = stageBlock(top, "whileLoop", condFn as AnyProgram, initFlat, (c) => [c]).block;
    const body = stageBlock(top, "whileLoop", bodyFn as AnyProgram, initFlat, (c) => [c]);
    checkSameLeaves("whileLoop", "the carry before and after the body", initFlat.leaves, body.out.leaves);
    const outs = varsLike(top, initFlat.leaves);
    top.push({ kind: "while", init: initFlat.leaves.map((l) => top.atom(l)), cond: condBlock, body: body.block, outs });
    return initFlat.rebuild(outs.map((v) => top.value(v))) as C;
  }
  let carry = init;
  for (;;) {
    const p = yield* condFn(carry);
    if (!concrete([p]))
      throw new TransformError(
        "whileLoop: the loop condition is staged under another transformation (e.g. grad inside jit), so the " +
          "number of steps is unknown while differentiating; use scan with a fixed length, or apply jit inside grad",
      );
    if (!truthy("whileLoop", p)) return carry;
    carry = yield* bodyFn(carry);
  }
}

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
  const length = options.length ?? lengths[0];
  if (length === undefined) throw new ShapeError("scan: xs has no arrays; pass { length } to scan a fixed number of steps");
  if (lengths.some((n) => n !== length)) throw new ShapeError(`scan: the leaves of xs have leading axes ${lengths.join(", ")}; they must all be ${length}`);
  const top = owner([...initFlat.leaves, ...xsFlat.leaves]);
  if (top instanceof StagingTrace) {
    const xVars = xsFlat.leaves.map((x) => top.newVar(shapeOf(x).slice(1), dtypeOf(x), false));
    let carryOut: Flat | undefined;
    let ysOut: Flat | undefined;
    const carryVars = varsLike(top, initFlat.leaves);
    const block = top.block([...carryVars, ...xVars], () => {
      const c = initFlat.rebuild(carryVars.map((v) => top.value(v)));
      const x = xsFlat.rebuild(xVars.map((v) => top.value(v)));
      const r = run("scan", fn as AnyProgram, [c, x]) as [C, Y];
      if (!Array.isArray(r) || r.length !== 2) throw new TransformError("scan: the body must return [carry, y]");
      carryOut = flatten(r[0]);
      ysOut = flatten(r[1]);
      return [...carryOut.leaves, ...ysOut.leaves];
    });
    checkSameLeaves("scan", "the carry before and after the body", initFlat.leaves, carryOut!.leaves);
    const outs = [
      ...varsLike(top, initFlat.leaves),
      ...ysOut!.leaves.map((y) => top.newVar([length, ...shapeOf(y)], dtypeOf(y), false)),
    ];
    top.push({ kind: "scan", length, init: initFlat.leaves.map((l) => top.atom(l)), xs: xsFlat.leaves.map((l) => top.atom(l)), body: block, outs });
    const staged = outs.map((v) => top.value(v));
    return [initFlat.rebuild(staged.slice(0, initFlat.leaves.length)), ysOut!.rebuild(staged.slice(initFlat.leaves.length))] as [C, Y];
  }
  // Eager (or a transformation above staging): run the steps.
  let carry = init;
  const ys: Value[][] = [];
  let yFlat: Flat | undefined;
  for (let t = 0; t < length; t++) {
    const x = xsFlat.rebuild(xsFlat.leaves.map((leaf) => row(leaf, t)));
    const r = (yield* fn(carry, x as X)) as [C, Y];
    if (!Array.isArray(r) || r.length !== 2) throw new TransformError("scan: the body must return [carry, y]");
    carry = r[0];
    yFlat = flatten(r[1]);
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
